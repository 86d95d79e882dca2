"""Fixtures shared by every app's tests: a small fixed cast."""

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from players.roles import roles_ensure
from players.tests.factories import BrandFactory, PlayerFactory


@pytest.fixture
def brand(db):
    return BrandFactory()


@pytest.fixture
def player(db, brand):
    return PlayerFactory(brand=brand)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def player_api(player):
    client = APIClient()
    client.force_authenticate(user=player)
    return client


def make_staff(role: str) -> User:
    roles_ensure()  # transactional tests truncate the groups the migration created
    user = User.objects.create_user(username=f"{role.lower()}-agent", password="staff-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def compliance(db):
    return make_staff("Compliance")


@pytest.fixture
def marketing(db):
    return make_staff("Marketing")


@pytest.fixture
def support(db):
    return make_staff("Support")
