"""`crm_events_add` keeps one plan for its insert instead of planning it again on every call.

Its insert unnests the events from array parameters. With the values in hand the planner counts the
events; without, it assumes 10, so the plan cache finds the generic plan dearer than the ones it made
for the first five calls and goes on planning the insert on every call. The plan is the same either
way. See wallet migration 0007 for the figures.
"""

from django.db import migrations

SQL = "ALTER FUNCTION crm_events_add(bigint, timestamptz, text[], jsonb[]) SET plan_cache_mode = force_generic_plan;"
REVERSE = "ALTER FUNCTION crm_events_add(bigint, timestamptz, text[], jsonb[]) RESET plan_cache_mode;"


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_outbox_sql")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
