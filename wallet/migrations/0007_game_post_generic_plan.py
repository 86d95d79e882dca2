"""`wallet_game_post` keeps one plan for its statement instead of planning it again on every call.

PL/pgSQL hands a statement with parameters to the plan cache, which plans it for the first five calls
with the values in hand and then keeps a generic plan only if that one is estimated no dearer. This
statement unnests its legs from array parameters: with the values known, the planner counts 2 or 3
legs; without, it assumes 10, so the generic plan is estimated dearer (51 against 17) and the cache
plans the statement again on every call, for ever. The plan is the same either way (the legs are
joined to their accounts by primary key). Measured on the bench machine, planning was about a tenth of
the database time of a bet; this and the same setting on `crm_events_add` (crm migration 0005) took
the backend's time per bet or win from 1.20 to 1.08 ms (median of three interleaved runs).
"""

from django.db import migrations

SQL = """
ALTER FUNCTION wallet_game_post(text, text, bigint, text, numeric, timestamptz, bigint[], numeric[])
    SET plan_cache_mode = force_generic_plan;
"""
REVERSE = """
ALTER FUNCTION wallet_game_post(text, text, bigint, text, numeric, timestamptz, bigint[], numeric[])
    RESET plan_cache_mode;
"""


class Migration(migrations.Migration):
    dependencies = [("wallet", "0006_account_identity_guard")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
