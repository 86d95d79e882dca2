"""A bet and its win in one statement: `games_bet_win_fast`, the fast path of the bet-win call.

The bet's statement, then the win's, in one transaction: both or neither. When the bet declines,
nothing was written; when the win declines after the bet was written (its id was used before), the
statement raises GF001, which undoes the bet. Either way the Python path answers the call.
"""

from django.db import migrations

SQL = r"""
CREATE FUNCTION games_bet_win_fast(
    p_vendor_id bigint, p_vendor_code text, p_vendor_name text, p_token_hash text, p_bet_transaction_id text,
    p_win_transaction_id text, p_round_id text, p_bet_amount numeric, p_win_amount numeric, p_currency text,
    p_places int, p_exchange_rate numeric, p_now timestamptz, p_timestamp text, p_idle interval, p_playable text[],
    p_house_shards int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    bet jsonb; win jsonb;
BEGIN
    bet := games_bet_fast(p_vendor_id, p_vendor_code, p_vendor_name, p_token_hash, p_bet_transaction_id, p_round_id,
                          p_bet_amount, p_currency, p_places, p_exchange_rate, p_now, p_timestamp, p_idle, p_playable,
                          p_house_shards);
    IF bet IS NULL THEN
        RETURN NULL;
    END IF;
    win := games_win_fast(p_vendor_id, p_vendor_code, p_vendor_name, p_token_hash, p_win_transaction_id, p_round_id,
                          p_win_amount, true, p_currency, p_places, p_exchange_rate, p_now, p_timestamp, p_idle,
                          p_house_shards);
    IF win IS NULL THEN
        RAISE EXCEPTION 'games fast path declined: win' USING ERRCODE = 'GF001';
    END IF;
    RETURN jsonb_build_object('bet', bet, 'win', win);
END
$$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS games_bet_win_fast(bigint, text, text, text, text, text, text, numeric, numeric, text, int,
                                           numeric, timestamptz, text, interval, text[], int);
"""


class Migration(migrations.Migration):
    dependencies = [("games", "0005_session_hot_updates")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
