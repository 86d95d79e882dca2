from datetime import date

import factory
from django.contrib.auth.hashers import make_password

from players.models import Brand, Player

PASSWORD = "correct-horse-42"
_PASSWORD_HASH = make_password(PASSWORD)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("code",)

    code = "test"
    name = "Test Casino"
    origin = "test-casino.example"
    default_market = "eu"


class PlayerFactory(factory.django.DjangoModelFactory):
    """A player row as registration leaves it (without the registration's events)."""

    class Meta:
        model = Player

    brand = factory.SubFactory(BrandFactory)
    username = factory.Sequence(lambda n: f"player{n}")
    email = factory.LazyAttribute(lambda p: f"{p.username}@example.com")
    password = _PASSWORD_HASH
    first_name = "Mia"
    last_name = "Vella"
    birth_date = date(1990, 5, 17)
    country = "MT"
    currency = "EUR"
    language = "en"
    market = "eu"
    origin = factory.LazyAttribute(lambda p: p.brand.origin)
