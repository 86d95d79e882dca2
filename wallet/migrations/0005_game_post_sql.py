"""The two ledger steps of a game bet or win, in SQL, for the seamless wallet's fast path.

SQL twins of `wallet.services.game_play.game_accounts_lock` and of `ledger_post` for a game posting,
called by `games_bet_fast` / `games_win_fast` (games migration 0004). The database's own guards
(balanced at commit, append-only, player balance >= 0) check these rows as they check any other.
games/tests/test_fast_path.py pins that they book what the Python services book (every ledger row,
entry and balance).
"""

from django.db import migrations

SQL = r"""
-- Balances change on every posting: free space in each page lets those be HOT updates.
ALTER TABLE wallet_account SET (fillfactor = 80);

-- The player's real and bonus accounts and their game-settlement shard, locked in id order (the
-- order every posting locks accounts in). An id is NULL when that account does not exist yet: the
-- caller then takes the Python path, which creates it.
CREATE FUNCTION wallet_game_accounts_lock(p_player_id bigint, p_currency text, p_shard int,
                                          OUT real_id bigint, OUT real_balance numeric, OUT bonus_id bigint,
                                          OUT bonus_balance numeric, OUT house_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    account record;
BEGIN
    FOR account IN
        SELECT id, kind, balance FROM wallet_account
         WHERE (player_id = p_player_id AND currency = p_currency AND kind IN ('REAL', 'BONUS'))
            OR (player_id IS NULL AND currency = p_currency AND kind = 'GAME_SETTLEMENT' AND shard = p_shard)
         ORDER BY id
           FOR UPDATE
    LOOP
        CASE account.kind
            WHEN 'REAL' THEN real_id := account.id; real_balance := account.balance;
            WHEN 'BONUS' THEN bonus_id := account.id; bonus_balance := account.balance;
            ELSE house_id := account.id;
        END CASE;
    END LOOP;
END
$$;

-- Book one game transaction in one statement: its row, one entry per leg (in leg order, with the
-- running balance) and the accounts' new cached balances. The caller holds the accounts locked and
-- passes legs that sum to zero, each account once.
CREATE FUNCTION wallet_game_post(p_kind text, p_external_id text, p_player_id bigint, p_currency text,
                                 p_amount numeric, p_at timestamptz, p_accounts bigint[], p_deltas numeric[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH ledger_tx AS (
        INSERT INTO wallet_ledgertransaction (kind, source, external_id, player_id, currency, amount, payment_id,
                                              reverses_id, created_at, actor_id, reason)
        VALUES (p_kind, 'games', p_external_id, p_player_id, p_currency, p_amount, NULL, NULL, p_at, NULL, '')
        RETURNING id
    ), legs AS (
        SELECT account_id, amount, n FROM unnest(p_accounts, p_deltas) WITH ORDINALITY AS leg(account_id, amount, n)
    ), moved AS (
        UPDATE wallet_account AS account SET balance = account.balance + legs.amount, updated_at = p_at
          FROM legs WHERE account.id = legs.account_id
        RETURNING account.id, account.balance
    )
    INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, balance_after)
    SELECT ledger_tx.id, legs.account_id, p_currency, legs.amount, moved.balance
      FROM ledger_tx, legs JOIN moved ON moved.id = legs.account_id
     ORDER BY legs.n;
END
$$;
"""

REVERSE = """
ALTER TABLE wallet_account RESET (fillfactor);
DROP FUNCTION IF EXISTS wallet_game_post(text, text, bigint, text, numeric, timestamptz, bigint[], numeric[]);
DROP FUNCTION IF EXISTS wallet_game_accounts_lock(bigint, text, int);
"""


class Migration(migrations.Migration):
    dependencies = [("wallet", "0004_house_shards")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
