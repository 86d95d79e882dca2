"""Games test fixtures: a vendor whose secret the tests know, a game, a funded player's session."""

import pytest
from django.db import connection
from django.test import Client

from games.selectors import vendor_cache_clear
from games.tests.factories import VENDOR_CODE, VENDOR_SECRET, GameFactory, VendorFactory, fund, launch


@pytest.fixture(autouse=True)
def _provider_secret(settings):
    settings.GAME_PROVIDER_SECRETS = {VENDOR_CODE: VENDOR_SECRET, "demo": "demo-test-secret"}
    vendor_cache_clear()
    yield
    vendor_cache_clear()


@pytest.fixture(autouse=True)
def _ledger_guards_checked_at_end(request):
    """The ledger's deferred constraint triggers fire at commit, which a `db` test never reaches: fire them
    at the end of every such test, so each one also proves the books balance."""
    if "db" not in request.fixturenames or "transactional_db" in request.fixturenames:
        yield
        return
    request.getfixturevalue("db")
    yield
    if not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def vendor(db):
    return VendorFactory()


@pytest.fixture
def game(vendor):
    return GameFactory(vendor=vendor)


@pytest.fixture
def funded(player):
    fund(player, real="10.00", bonus="5.00")
    return player


@pytest.fixture
def session_token(funded, game):
    """(session, token) of a launched game of a player with 10.00 real and 5.00 bonus money."""
    return launch(funded, game)


@pytest.fixture
def provider():
    """An HTTP client for provider calls (no cookies, no CSRF: the signature is the credential)."""
    return Client()
