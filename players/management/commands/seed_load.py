"""Bulk-load realistic players for benchmarks, fast (PostgreSQL COPY, 50,000 rows a batch).

Load data skips the services on purpose: it sends no CRM events and writes no history. Never run
it against a database with real players.

Speed (1,000,000 players on 2 cores): a thread builds the next batch while PostgreSQL copies the
last one, and a load that at least doubles the table drops the non-unique indexes and builds them
again at the end, which is about twice as fast as maintaining them row by row. All of it is one
transaction, so a failed load leaves the table and its indexes as they were; the table is locked
against readers meanwhile. A VACUUM ANALYZE at the end sets hint bits and statistics, so the first
queries after a load are not slower than the rest.
"""

import io
import queue
import random
import threading
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import connection, transaction
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
# Below this many new rows, keeping the indexes up to date costs less than building them again.
REBUILD_MIN = 50_000


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
            cursor.execute("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM players_player")
            last_id, existing = cursor.fetchone()
        start = last_id + 1
        now = datetime.now(UTC)
        batches: queue.Queue = queue.Queue(maxsize=2)

        def produce():
            try:
                for offset in range(0, players, BATCH):
                    rows = [self._row(rng, brand, password, start + offset + n, now)
                            for n in range(min(BATCH, players - offset))]
                    batches.put(("".join("\t".join(row) + "\n" for row in rows), len(rows)))
                batches.put(None)
            except Exception as error:  # noqa: BLE001 - handed to the copying thread, which raises it
                batches.put(error)

        producer = threading.Thread(target=produce, name="seed-load-rows", daemon=True)
        producer.start()
        with transaction.atomic(), connection.cursor() as cursor:
            # Django's foreign keys are deferred; checked at commit, they would queue a million trigger
            # events and forbid the CREATE INDEX below. Checked per COPY, they cost the same.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            rebuild = self._drop_indexes(cursor) if players >= max(existing, REBUILD_MIN) else []
            with tqdm(total=players, unit="player", disable=None) as bar:
                while (batch := batches.get()) is not None:
                    if isinstance(batch, Exception):
                        raise batch
                    text, count = batch
                    cursor.copy_expert(f"COPY players_player ({', '.join(COLUMNS)}) FROM STDIN", io.StringIO(text))
                    bar.update(count)
            for definition in tqdm(rebuild, unit="index", disable=None):
                cursor.execute(definition)
        producer.join()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE players_player")
        self.stdout.write(self.style.SUCCESS(f"Loaded {players} players."))

    def _drop_indexes(self, cursor) -> list[str]:
        """Drop the non-unique indexes of the player table; return the statements that build them again."""
        cursor.execute(
            """
            SELECT index_class.relname, pg_get_indexdef(pg_index.indexrelid)
            FROM pg_index JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
            WHERE pg_index.indrelid = 'players_player'::regclass AND NOT pg_index.indisunique
            """
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        return [definition for _name, definition in indexes]

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
