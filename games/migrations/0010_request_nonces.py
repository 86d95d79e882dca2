"""Request nonces in PostgreSQL (they were in Redis), and the fast statements that spend one as they book.

`games_bet_fast_signed`, `games_win_fast_signed` and `games_bet_win_fast_signed` insert the request's
nonce, then run the fast statement (games 0004, 0006). When that declines, they raise GF001, which
undoes the nonce too: the full path then spends it itself. A nonce spent before makes the insert fail
on the primary key (23505), and the full path finds the replay.

The wallet server calls these: a bet or a win is then one round trip, to PostgreSQL, where it was one
to Redis and one to PostgreSQL, and the nonce commits with the booking; without Redis the wallet still
takes calls (it answered every call 503 before). Interleaved paced runs on the 2-core bench machine at
550 calls/s, two sets of eight pairs: the wallet server's CPU per call 0.61 and 0.53 ms against 0.73 and
0.59, Redis's 0.01 against 0.06-0.07, PostgreSQL's 1.58 and 1.22 against 1.46 and 1.17: the machine's
2.58 and 2.05 against 2.52 and 2.09, the same within the noise (docs/games-speed-log.md).
"""

from django.db import migrations, models

# (operation, the fast statement's parameters with their types)
_FAST_STATEMENTS = [
    ("bet", "p_vendor_id bigint, p_vendor_code text, p_vendor_name text, p_token_hash text, p_transaction_id text, "
            "p_round_id text, p_amount numeric, p_currency text, p_places int, p_exchange_rate numeric, "
            "p_now timestamptz, p_timestamp text, p_idle interval, p_playable text[], p_house_shards int"),
    ("win", "p_vendor_id bigint, p_vendor_code text, p_vendor_name text, p_token_hash text, p_transaction_id text, "
            "p_round_id text, p_amount numeric, p_round_closed boolean, p_currency text, p_places int, "
            "p_exchange_rate numeric, p_now timestamptz, p_timestamp text, p_idle interval, p_house_shards int"),
    ("bet_win", "p_vendor_id bigint, p_vendor_code text, p_vendor_name text, p_token_hash text, "
                "p_bet_transaction_id text, p_win_transaction_id text, p_round_id text, p_bet_amount numeric, "
                "p_win_amount numeric, p_currency text, p_places int, p_exchange_rate numeric, p_now timestamptz, "
                "p_timestamp text, p_idle interval, p_playable text[], p_house_shards int"),
]


def _signed(operation: str, parameters: str) -> str:
    arguments = ", ".join(parameter.split()[0] for parameter in parameters.split(", "))
    return f"""
CREATE FUNCTION games_{operation}_fast_signed(p_nonce text, {parameters})
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb;
BEGIN
    INSERT INTO games_requestnonce (vendor_code, nonce, spent_at) VALUES (p_vendor_code, p_nonce, p_now);
    answer := games_{operation}_fast({arguments});
    IF answer IS NULL THEN
        RAISE EXCEPTION 'games fast path declined' USING ERRCODE = 'GF001';
    END IF;
    RETURN answer;
END
$$;
"""


def _drop(operation: str, parameters: str) -> str:
    types = ", ".join(parameter.split(maxsplit=1)[1] for parameter in parameters.split(", "))
    return f"DROP FUNCTION IF EXISTS games_{operation}_fast_signed(text, {types});\n"


SQL = "".join(_signed(*statement) for statement in _FAST_STATEMENTS)
REVERSE = "".join(_drop(*statement) for statement in _FAST_STATEMENTS)


class Migration(migrations.Migration):
    dependencies = [("games", "0009_validate_session_keys")]

    operations = [
        migrations.CreateModel(
            name="RequestNonce",
            fields=[
                ("pk", models.CompositePrimaryKey("vendor_code", "nonce", blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ("vendor_code", models.CharField(db_collation="C", max_length=100)),
                ("nonce", models.CharField(db_collation="C", max_length=64)),
                ("spent_at", models.DateTimeField()),
            ],
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
