"""The outbox insert and the two Fast Track bodies the seamless wallet's fast path writes, in SQL.

SQL twins of `crm.services.crm_event_record` and of `crm.fasttrack.events.casino_data` /
`balances_data` (with `_common`), for `games_bet_fast` / `games_win_fast` (games migration 0004),
which write a bet or a win and its events in one statement. games/tests/test_fast_path.py pins that
they build what the Python builders build, byte for byte as stored.

The builders are plain SQL expressions, so that the planner inlines them into the caller's cached
plan (STABLE, not IMMUTABLE: jsonb_build_object is STABLE, and an IMMUTABLE function calling it is not
inlined). The insert is PL/pgSQL: PL/pgSQL keeps its plan for the session, a SQL function that cannot
be inlined is planned again on every call.
"""

from django.db import migrations

SQL = r"""
-- A business change's events for one player, in the given order (the ids keep it).
CREATE FUNCTION crm_events_add(p_player_id bigint, p_at timestamptz, p_event_types text[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crm_outboxevent (event_id, event_type, player_id, payload, created_at, status, attempts,
                                 next_attempt_at, last_error)
    SELECT gen_random_uuid(), event_type, p_player_id, payload, p_at, 'PENDING', 0, p_at, ''
      FROM unnest(p_event_types, p_payloads) WITH ORDINALITY AS event(event_type, payload, n)
     ORDER BY n;
END
$$;

-- user_id, timestamp (RFC 3339 with milliseconds, formatted by the caller) and origin.
CREATE FUNCTION crm_fasttrack_common(p_player_id bigint, p_timestamp text, p_origin text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('user_id', p_player_id::text, 'timestamp', p_timestamp,
                              'origin', btrim(p_origin, E' \t\n\r\f\v'))
$$;

-- Empty strings are left out, as build_payload leaves them out.
CREATE FUNCTION crm_fasttrack_casino(
    p_activity_id text, p_round_id text, p_type text, p_status text, p_amount numeric, p_real numeric,
    p_bonus numeric, p_currency text, p_exchange_rate numeric, p_game_id text, p_game_name text,
    p_game_type text, p_vendor_id text, p_vendor_name text, p_is_round_end boolean, p_balance_before numeric,
    p_balance_after numeric)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'activity_id', NULLIF(p_activity_id, ''), 'round_id', NULLIF(p_round_id, ''), 'type', p_type,
        'status', p_status, 'amount', p_amount, 'wager_amount', p_real, 'bonus_wager_amount', p_bonus,
        'locked_wager_amount', 0, 'currency', p_currency, 'exchange_rate', p_exchange_rate,
        'game_id', NULLIF(p_game_id, ''), 'game_name', NULLIF(p_game_name, ''),
        'game_type', NULLIF(p_game_type, ''), 'vendor_id', NULLIF(p_vendor_id, ''),
        'vendor_name', NULLIF(p_vendor_name, ''), 'is_round_end', p_is_round_end,
        'balance_before', p_balance_before, 'balance_after', p_balance_after))
$$;

CREATE FUNCTION crm_fasttrack_balances(p_currency text, p_real numeric, p_bonus numeric, p_exchange_rate numeric)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('balances', jsonb_build_array(
        jsonb_build_object('amount', p_real, 'currency', p_currency, 'key', 'real_money',
                           'exchange_rate', p_exchange_rate),
        jsonb_build_object('amount', p_bonus, 'currency', p_currency, 'key', 'bonus_money',
                           'exchange_rate', p_exchange_rate)))
$$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS crm_fasttrack_balances(text, numeric, numeric, numeric);
DROP FUNCTION IF EXISTS crm_fasttrack_casino(text, text, text, text, numeric, numeric, numeric, text, numeric, text,
                                             text, text, text, text, boolean, numeric, numeric);
DROP FUNCTION IF EXISTS crm_fasttrack_common(bigint, text, text);
DROP FUNCTION IF EXISTS crm_events_add(bigint, timestamptz, text[], jsonb[]);
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_delivery")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
