"""The common bet and the common win in one statement each: the seamless wallet's fast path.

`games_bet_fast` and `games_win_fast` do what `games.services.play` does for a bet or a win that
goes through, in one round trip and with plans the server keeps: lock the session, then the player's
accounts (`wallet_game_accounts_lock`), check that the call is a plain first call that will be taken,
then write the round, the session's totals, the `GameTransaction` with its answer, the CASINO event,
the ledger transaction (`wallet_game_post`) and USER_BALANCES_UPDATE (`crm_events_add`).

Anything else answers NULL having written nothing (or, found only when the round is written, raises
SQLSTATE GF001, which undoes the statement), and the caller takes the Python path, which
knows every refusal and every special case: an unknown or ended session, a currency mismatch, a
retry or a reused id, a rollback that came first, a blocked player or one with a loss or wager
limit, a disabled game, a round that is closed or another player's, too little money, missing
accounts, a reality check that is due. So the rules of refusal live in one place (Python), and these
functions only need to agree with it on what a taken call writes: games/tests/test_fast_path.py
plays the same calls through both paths and compares every row and every answer.
"""

from django.db import migrations

SQL = r"""
CREATE FUNCTION games_money(p_amount numeric, p_places int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT round(p_amount, p_places)::text
$$;

CREATE FUNCTION games_bet_fast(
    p_vendor_id bigint, p_vendor_code text, p_vendor_name text, p_token_hash text, p_transaction_id text,
    p_round_id text, p_amount numeric, p_currency text, p_places int, p_exchange_rate numeric,
    p_now timestamptz, p_timestamp text, p_idle interval, p_playable text[], p_house_shards int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s record;
    acc record;
    real_part numeric; bonus_part numeric; real_after numeric; bonus_after numeric;
    accounts bigint[] := '{}'; deltas numeric[] := '{}';
    answer jsonb; common jsonb; written int;
BEGIN
    -- The session locked, with its game, its player, and the player's checks of the Python path's
    -- session lock (games.services.hot_sql.SESSION_LOCK): an active block, a loss or wager limit.
    SELECT gs.id, gs.player_id, gs.game_id, gs.status, gs.currency, gs.expires_at, gs.limit_ends_at,
           gs.reality_check_due_at, g.vendor_id, g.enabled AS game_enabled, g.code AS game_code,
           g.name AS game_name, g.game_type, p.status AS player_status, p.origin,
           EXISTS (SELECT 1 FROM players_playerblock b
                    WHERE b.player_id = gs.player_id AND b.starts_at <= p_now
                      AND (b.lifted_at IS NULL OR b.lifted_at > p_now)
                      AND (b.ends_at IS NULL OR b.ends_at > p_now)) AS has_blocks,
           EXISTS (SELECT 1 FROM players_responsiblegaminglimit l
                    WHERE l.player_id = gs.player_id AND l.kind IN ('LOSS', 'WAGER')) AS has_money_limits
      INTO s
      FROM games_gamesession gs JOIN games_game g ON g.id = gs.game_id JOIN players_player p ON p.id = gs.player_id
     WHERE gs.token_hash = p_token_hash
       FOR UPDATE OF gs;
    IF NOT FOUND OR s.status <> 'ACTIVE' OR s.currency <> p_currency OR s.expires_at <= p_now
       OR s.limit_ends_at <= p_now OR s.reality_check_due_at <= p_now OR s.vendor_id <> p_vendor_id
       OR NOT s.game_enabled OR NOT s.player_status = ANY (p_playable) OR s.has_blocks OR s.has_money_limits THEN
        RETURN NULL;
    END IF;
    SELECT * INTO acc FROM wallet_game_accounts_lock(s.player_id, p_currency, (s.player_id % p_house_shards)::int);
    IF acc.real_id IS NULL OR acc.bonus_id IS NULL OR acc.house_id IS NULL
       OR p_amount > acc.real_balance + acc.bonus_balance THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM games_gametransaction
                WHERE vendor_id = p_vendor_id
                  AND (external_id = p_transaction_id OR (kind = 'ROLLBACK' AND reference_id = p_transaction_id))) THEN
        RETURN NULL;
    END IF;

    -- Real money first, then bonus money (wallet.services.game_play.bet_split).
    real_part := CASE WHEN p_amount <= acc.real_balance THEN p_amount ELSE acc.real_balance END;
    bonus_part := p_amount - real_part;
    real_after := acc.real_balance - real_part;
    bonus_after := acc.bonus_balance - bonus_part;
    answer := jsonb_build_object(
        'status', 'OK', 'transaction_id', p_transaction_id, 'round_id', p_round_id,
        'player_id', s.player_id::text, 'amount', games_money(p_amount, p_places),
        'real_amount', games_money(real_part, p_places), 'bonus_amount', games_money(bonus_part, p_places),
        'currency', p_currency, 'balance', games_money(real_after + bonus_after, p_places),
        'real_balance', games_money(real_after, p_places), 'bonus_balance', games_money(bonus_after, p_places));

    -- The round (new, or the player's own open one: hot_sql.BET_WRITE), the session's totals and the
    -- idempotency record with its answer.
    WITH round AS (
        INSERT INTO games_gameround AS r (vendor_id, round_id, player_id, session_id, game_id, currency, status,
                                          total_bet, total_win, created_at)
        VALUES (p_vendor_id, p_round_id, s.player_id, s.id, s.game_id, p_currency, 'OPEN', p_amount, 0, p_now)
        ON CONFLICT (vendor_id, round_id) DO UPDATE SET total_bet = r.total_bet + EXCLUDED.total_bet
            WHERE r.player_id = EXCLUDED.player_id AND r.status = 'OPEN'
        RETURNING r.id, (r.xmax = 0) AS created
    ), session AS (
        UPDATE games_gamesession
           SET total_bet = total_bet + p_amount, rounds = rounds + (SELECT COUNT(*) FROM round WHERE created),
               last_activity_at = p_now, expires_at = LEAST(p_now + p_idle, limit_ends_at)
         WHERE id = s.id AND EXISTS (SELECT 1 FROM round)
    )
    INSERT INTO games_gametransaction (vendor_id, external_id, kind, player_id, session_id, round_id, currency, amount,
                                       real_amount, bonus_amount, reference_id, request_hash, response, created_at)
    SELECT p_vendor_id, p_transaction_id, 'BET', s.player_id, s.id, round.id, p_currency, p_amount, real_part,
           bonus_part, '',
           encode(sha256(convert_to(concat_ws('|', 'BET', s.player_id, p_round_id, p_amount, p_currency), 'UTF8')),
                  'hex'),
           jsonb_build_object('status', 200, 'body', answer), p_now
      FROM round;
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written = 0 THEN
        -- The round is another player's or closed: undo the statement, the Python path says why.
        RAISE EXCEPTION 'games fast path declined: round' USING ERRCODE = 'GF001';
    END IF;

    IF real_part <> 0 THEN accounts := accounts || acc.real_id; deltas := deltas || -real_part; END IF;
    IF bonus_part <> 0 THEN accounts := accounts || acc.bonus_id; deltas := deltas || -bonus_part; END IF;
    PERFORM wallet_game_post('GAME_BET', p_vendor_code || ':' || p_transaction_id, s.player_id, p_currency, p_amount,
                             p_now, accounts || acc.house_id, deltas || p_amount);

    common := crm_fasttrack_common(s.player_id, p_timestamp, s.origin);
    PERFORM crm_events_add(s.player_id, p_now, ARRAY['CASINO', 'USER_BALANCES_UPDATE'], ARRAY[
        common || crm_fasttrack_casino(
            p_vendor_code || ':' || p_transaction_id, p_round_id, 'Bet', 'Approved', p_amount, real_part, bonus_part,
            p_currency, p_exchange_rate, s.game_code, s.game_name, s.game_type, p_vendor_code, p_vendor_name, false,
            acc.real_balance + acc.bonus_balance, acc.real_balance + acc.bonus_balance - p_amount),
        common || crm_fasttrack_balances(p_currency, round(real_after, p_places), round(bonus_after, p_places),
                                         p_exchange_rate)]);
    RETURN answer;
END
$$;

CREATE FUNCTION games_win_fast(
    p_vendor_id bigint, p_vendor_code text, p_vendor_name text, p_token_hash text, p_transaction_id text,
    p_round_id text, p_amount numeric, p_round_closed boolean, p_currency text, p_places int,
    p_exchange_rate numeric, p_now timestamptz, p_timestamp text, p_idle interval, p_house_shards int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s record;
    acc record;
    answer jsonb; common jsonb; casino jsonb; written int;
BEGIN
    -- Wins are taken on an ended session too (the round began while it was open).
    SELECT gs.id, gs.player_id, gs.currency, g.vendor_id, g.code AS game_code, g.name AS game_name, g.game_type,
           p.origin
      INTO s
      FROM games_gamesession gs JOIN games_game g ON g.id = gs.game_id JOIN players_player p ON p.id = gs.player_id
     WHERE gs.token_hash = p_token_hash
       FOR UPDATE OF gs;
    IF NOT FOUND OR s.currency <> p_currency OR s.vendor_id <> p_vendor_id THEN
        RETURN NULL;
    END IF;
    SELECT * INTO acc FROM wallet_game_accounts_lock(s.player_id, p_currency, (s.player_id % p_house_shards)::int);
    IF acc.real_id IS NULL OR acc.bonus_id IS NULL OR acc.house_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM games_gametransaction WHERE vendor_id = p_vendor_id AND external_id = p_transaction_id) THEN
        RETURN NULL;
    END IF;

    answer := jsonb_build_object(
        'status', 'OK', 'transaction_id', p_transaction_id, 'round_id', p_round_id,
        'player_id', s.player_id::text, 'amount', games_money(p_amount, p_places), 'round_closed', p_round_closed,
        'currency', p_currency, 'balance', games_money(acc.real_balance + p_amount + acc.bonus_balance, p_places),
        'real_balance', games_money(acc.real_balance + p_amount, p_places),
        'bonus_balance', games_money(acc.bonus_balance, p_places));

    -- The player's open round (hot_sql.WIN_WRITE); play keeps an active session alive (play._touch),
    -- an ended one keeps its times.
    WITH round AS (
        UPDATE games_gameround
           SET total_win = total_win + p_amount,
               status = CASE WHEN p_round_closed THEN 'CLOSED' ELSE status END,
               closed_at = CASE WHEN p_round_closed THEN p_now ELSE closed_at END
         WHERE vendor_id = p_vendor_id AND round_id = p_round_id AND player_id = s.player_id AND status = 'OPEN'
        RETURNING id
    ), session AS (
        UPDATE games_gamesession
           SET total_win = total_win + p_amount,
               last_activity_at = CASE WHEN status = 'ACTIVE' THEN p_now ELSE last_activity_at END,
               expires_at = CASE WHEN status = 'ACTIVE' THEN LEAST(p_now + p_idle, limit_ends_at) ELSE expires_at END
         WHERE id = s.id AND EXISTS (SELECT 1 FROM round)
    )
    INSERT INTO games_gametransaction (vendor_id, external_id, kind, player_id, session_id, round_id, currency, amount,
                                       real_amount, bonus_amount, reference_id, request_hash, response, created_at)
    SELECT p_vendor_id, p_transaction_id, 'WIN', s.player_id, s.id, round.id, p_currency, p_amount, p_amount, 0, '',
           encode(sha256(convert_to(concat_ws('|', 'WIN', s.player_id, p_round_id, p_amount, p_currency,
                                              CASE WHEN p_round_closed THEN 'True' ELSE 'False' END), 'UTF8')), 'hex'),
           jsonb_build_object('status', 200, 'body', answer), p_now
      FROM round;
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written = 0 THEN
        -- No open round of this player: the Python path says whether it is closed or unknown.
        RAISE EXCEPTION 'games fast path declined: round' USING ERRCODE = 'GF001';
    END IF;

    common := crm_fasttrack_common(s.player_id, p_timestamp, s.origin);
    casino := common || crm_fasttrack_casino(
        p_vendor_code || ':' || p_transaction_id, p_round_id, 'Win', 'Approved', p_amount, p_amount, 0, p_currency,
        p_exchange_rate, s.game_code, s.game_name, s.game_type, p_vendor_code, p_vendor_name, p_round_closed,
        acc.real_balance + acc.bonus_balance, acc.real_balance + acc.bonus_balance + p_amount);
    IF p_amount = 0 THEN
        PERFORM crm_events_add(s.player_id, p_now, ARRAY['CASINO'], ARRAY[casino]);
        RETURN answer;
    END IF;
    PERFORM wallet_game_post('GAME_WIN', p_vendor_code || ':' || p_transaction_id, s.player_id, p_currency, p_amount,
                             p_now, ARRAY[acc.real_id, acc.house_id], ARRAY[p_amount, -p_amount]);
    PERFORM crm_events_add(s.player_id, p_now, ARRAY['CASINO', 'USER_BALANCES_UPDATE'], ARRAY[
        casino,
        common || crm_fasttrack_balances(p_currency, round(acc.real_balance + p_amount, p_places),
                                         round(acc.bonus_balance, p_places), p_exchange_rate)]);
    RETURN answer;
END
$$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS games_win_fast(bigint, text, text, text, text, text, numeric, boolean, text, int, numeric,
                                       timestamptz, text, interval, int);
DROP FUNCTION IF EXISTS games_bet_fast(bigint, text, text, text, text, text, numeric, text, int, numeric, timestamptz,
                                       text, interval, text[], int);
DROP FUNCTION IF EXISTS games_money(numeric, int);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("games", "0003_game_tx_ledger_link_by_id"),
        ("wallet", "0005_game_post_sql"),
        ("crm", "0004_outbox_sql"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
