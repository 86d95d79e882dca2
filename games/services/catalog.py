"""The catalog's writes: vendors and games as the demo data (and an integration script) set them up."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction

from games.models import Game, GameType, Vendor

DEMO_VENDOR = {"code": "demo", "name": "Demo Games"}
DEMO_GAMES = [
    {"code": "lucky-sevens", "name": "Lucky Sevens", "game_type": GameType.SLOTS, "rtp": Decimal("96.00")},
    {"code": "fruit-frenzy", "name": "Fruit Frenzy", "game_type": GameType.SLOTS, "rtp": Decimal("94.50")},
    {"code": "diamond-rush", "name": "Diamond Rush", "game_type": GameType.SLOTS, "rtp": Decimal("97.20"),
     "restricted_countries": ["GB"]},
]


def catalog_seed_demo() -> tuple[Vendor, list[Game]]:
    """Create or update the demo vendor (the provider simulator) and its games. Idempotent; locks nothing."""
    launch_url = f"{settings.GAME_DEMO_PROVIDER_URL.rstrip('/')}/game"
    with transaction.atomic():
        vendor, _ = Vendor.objects.update_or_create(code=DEMO_VENDOR["code"], defaults={
            "name": DEMO_VENDOR["name"], "launch_url": launch_url, "enabled": True})
        games = [Game.objects.update_or_create(vendor=vendor, code=spec["code"], defaults={
            "restricted_countries": [], **{key: value for key, value in spec.items() if key != "code"}})[0]
            for spec in DEMO_GAMES]
    return vendor, games
