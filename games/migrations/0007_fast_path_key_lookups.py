"""The fast path's lookups stay key lookups whatever the tables' statistics said when they were planned.

A session keeps the plans of these functions' statements (PL/pgSQL's plan cache) until an ANALYZE of
a table they read makes it plan them again. On a new database the tables are empty when the first
calls come, and autovacuum analyzes them a minute or more later. Two plans made then got dearer with
every row written until that ANALYZE:

- The bet's check for an earlier call with its id (a transaction, or a rollback that came first) was
  one lookup with an OR. On a small table the planner read the vendor's part of the unique index and
  filtered it: measured in the games benchmark on a new database, 2,300 rows read per bet on average,
  93 million in all, and 355 instead of about 700 wallet calls per second. It is now two lookups, each
  on every column of its unique index.
- On a table analyzed while nearly empty, a sequential scan is estimated cheaper than any index, and
  is kept while the table grows. The three entry points plan with `enable_seqscan = off`, which the
  statements they run inherit: every row they read, they find by a key, so an index is right at every
  size. (The foreign-key checks are deferred to the commit, outside the functions.)
"""

import importlib

from django.db import migrations

_0004 = importlib.import_module("games.migrations.0004_seamless_fast_sql")

EARLIER_CALL_CHECK = (
    "    IF EXISTS (SELECT 1 FROM games_gametransaction\n"
    "                WHERE vendor_id = p_vendor_id\n"
    "                  AND (external_id = p_transaction_id OR (kind = 'ROLLBACK' AND reference_id = p_transaction_id)))"
    " THEN")
EARLIER_CALL_CHECK_BY_KEYS = """    IF EXISTS (SELECT 1 FROM games_gametransaction
                WHERE vendor_id = p_vendor_id AND external_id = p_transaction_id)
       OR EXISTS (SELECT 1 FROM games_gametransaction
                   WHERE vendor_id = p_vendor_id AND kind = 'ROLLBACK' AND reference_id = p_transaction_id) THEN"""


def _bet_fast(check: str) -> str:
    """games 0004's games_bet_fast, with `check` as its check for an earlier call."""
    start, end = _0004.SQL.index("CREATE FUNCTION games_bet_fast("), _0004.SQL.index("CREATE FUNCTION games_win_fast(")
    definition = _0004.SQL[start:end]
    assert definition.count(EARLIER_CALL_CHECK) == 1
    return definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(EARLIER_CALL_CHECK, check)


ENTRY_POINTS = [
    "games_bet_fast(bigint, text, text, text, text, text, numeric, text, int, numeric, timestamptz, text, interval, "
    "text[], int)",
    "games_win_fast(bigint, text, text, text, text, text, numeric, boolean, text, int, numeric, timestamptz, text, "
    "interval, int)",
    "games_bet_win_fast(bigint, text, text, text, text, text, text, numeric, numeric, text, int, numeric, timestamptz, "
    "text, interval, text[], int)",
]

SQL = _bet_fast(EARLIER_CALL_CHECK_BY_KEYS) + "".join(
    f"ALTER FUNCTION {function} SET enable_seqscan = off;\n" for function in ENTRY_POINTS)
REVERSE = _bet_fast(EARLIER_CALL_CHECK) + "".join(
    f"ALTER FUNCTION {function} RESET enable_seqscan;\n" for function in ENTRY_POINTS)


class Migration(migrations.Migration):
    dependencies = [("games", "0006_bet_win_fast_sql")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
