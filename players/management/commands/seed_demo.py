"""Demo data for the proof of concept: a brand, players, one staff user per role, and the demo games."""

from datetime import date

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from games.services.catalog import catalog_seed_demo
from players.models import Brand, Player
from players.services import accounts

STAFF_PASSWORD = "demo-staff-2026"
PLAYER_PASSWORD = "demo-player-2026"
STAFF = [("compliance", "Compliance"), ("marketing", "Marketing"), ("support", "Support"), ("admin", "Admin")]
PLAYERS = [
    dict(username="alice", email="alice@example.com", first_name="Alice", last_name="Borg", country="MT",
         currency="EUR", language="en", birth_date=date(1990, 4, 12), city="Valletta",
         consents={"email": True, "sms": True, "siteNotification": True}),
    dict(username="bjorn", email="bjorn@example.com", first_name="Björn", last_name="Lind", country="SE",
         currency="SEK", language="sv", birth_date=date(1985, 9, 3), city="Stockholm",
         consents={"email": True}),
    dict(username="kenji", email="kenji@example.com", first_name="Kenji", last_name="Sato", country="JP",
         currency="JPY", language="ja", birth_date=date(1979, 1, 30), city="Osaka", consents={}),
]


class Command(BaseCommand):
    help = "Create a demo brand, demo players and one staff user per role, and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when players already exist.")

    def handle(self, *args, if_empty=False, **options):
        vendor, games = catalog_seed_demo()  # idempotent: keeps the demo vendor's URL current
        self.stdout.write(f"Demo games: {len(games)} from {vendor.name}")
        if if_empty and Player.objects.exists():
            self.stdout.write("Demo data already present.")
            self._print_logins()
            return
        brand, _ = Brand.objects.get_or_create(
            code="demo", defaults={"name": "Demo Casino", "origin": "demo-casino.local", "default_market": "eu"})
        with transaction.atomic():
            for username, role in STAFF:
                user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
                if created:
                    user.set_password(STAFF_PASSWORD)
                    user.is_superuser = role == "Admin"
                    user.save()
                user.groups.add(Group.objects.get(name=role))
        for data in PLAYERS:
            if not Player.objects.filter(username=data["username"]).exists():
                accounts.player_register(**data, password=PLAYER_PASSWORD, brand=brand, ip_address="127.0.0.1",
                                         user_agent="seed_demo")
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(self.style.SUCCESS("Demo logins"))
        for username, role in STAFF:
            self.stdout.write(f"  staff  {username:<11} / {STAFF_PASSWORD}  ({role}) -> /admin/")
        for data in PLAYERS:
            self.stdout.write(f"  player {data['username']:<11} / {PLAYER_PASSWORD}  ({data['currency']}) -> /login")
