"""Bulk-load realistic players for benchmarks, fast (PostgreSQL COPY, 50,000 rows a batch).

Load data skips the services on purpose: it sends no CRM events and writes no history. Never run
it against a database with real players.
"""

import io
import random
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import connection
from tqdm import tqdm

from players.models import Brand

FIRST = ["Anna", "Ben", "Carla", "Dario", "Elena", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Karin", "Luca",
         "Maja", "Nils", "Olga", "Pablo", "Rosa", "Sven", "Tara", "Ugo", "Vera", "Willem", "Yara", "Zoe"]
LAST = ["Abela", "Berg", "Camilleri", "Dahl", "Ebert", "Farrugia", "Gauci", "Holm", "Ivanova", "Jensen",
        "Koch", "Lind", "Muscat", "Novak", "Olsen", "Pace", "Quinn", "Rossi", "Schmidt", "Tanaka", "Vella"]
MARKETS = [("MT", "EUR", "en"), ("SE", "SEK", "sv"), ("DE", "EUR", "de"), ("GB", "GBP", "en"), ("FI", "EUR", "fi"),
           ("NO", "NOK", "no"), ("CA", "CAD", "en"), ("JP", "JPY", "ja"), ("BR", "BRL", "pt"), ("IE", "EUR", "en")]
COLUMNS = ["brand_id", "username", "email", "password", "title", "first_name", "last_name", "sex", "birth_date",
           "address", "city", "postal_code", "mobile_prefix", "mobile", "country", "market", "language",
           "currency", "origin", "affiliate_reference", "registration_code", "registered_at", "status",
           "kyc_status", "roles", "consent_email", "consent_sms", "consent_telephone", "consent_post_mail",
           "consent_site_notification", "consent_push_notification", "updated_at"]
BATCH = 50_000


class Command(BaseCommand):
    help = "Bulk-create N realistic players (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--players", type=int, required=True)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, players: int, seed: int, **options):
        rng = random.Random(seed)
        brand, _ = Brand.objects.get_or_create(
            code="demo", defaults={"name": "Demo Casino", "origin": "demo-casino.local", "default_market": "eu"})
        password = make_password("load-player")
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM players_player")
            start = cursor.fetchone()[0] + 1
        now = datetime.now(UTC)
        with tqdm(total=players, unit="player", disable=None) as bar:
            for offset in range(0, players, BATCH):
                rows = [self._row(rng, brand, password, start + offset + n, now)
                        for n in range(min(BATCH, players - offset))]
                buffer = io.StringIO("".join("\t".join(row) + "\n" for row in rows))
                with connection.cursor() as cursor:
                    cursor.copy_expert(f"COPY players_player ({', '.join(COLUMNS)}) FROM STDIN", buffer)
                bar.update(len(rows))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE players_player")
        self.stdout.write(self.style.SUCCESS(f"Loaded {players} players."))

    def _row(self, rng, brand, password, n, now) -> list[str]:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        country, currency, language = rng.choice(MARKETS)
        username = f"{first.lower()}.{last.lower()}{n}"
        registered = now - timedelta(minutes=rng.randrange(0, 5 * 365 * 24 * 60))
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 50 * 365))
        consents = ["t" if rng.random() < 0.4 else "f" for _ in range(6)]
        roles = "{VIP}" if rng.random() < 0.01 else "{}"
        return [str(brand.pk), username, f"{username}@load.example", password, "", first, last,
                rng.choice(["male", "female", ""]), birth.isoformat(), f"{rng.randrange(1, 200)} Main Street",
                "Valletta", f"{rng.randrange(1000, 99999)}", "+356", f"79{n:08d}"[-10:], country,
                brand.default_market, language, currency, brand.origin, "", "", registered.isoformat(),
                "ACTIVE", rng.choice(["NOT_STARTED", "VERIFIED", "PENDING"]), roles, *consents, now.isoformat()]
