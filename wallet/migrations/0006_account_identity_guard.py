"""An account's kind, owner, currency and shard are checked when they are written, not on every posting.

They were CHECK constraints. PostgreSQL reads a table's CHECKs back from their stored form and compiles
them on every statement that updates the table, and every posting updates `wallet_account` (its
balances): measured on the bench machine, the two long CHECKs (the currency list, the kinds by owner)
were about a tenth of the seamless wallet's database time per bet. These columns never change after an
account is opened, so a trigger that fires only on INSERT and on an UPDATE naming them checks the same
rules, and also refuses what the CHECKs allowed: changing an opened account's identity.

The currency list is frozen here, as the CHECK's was; wallet/tests/test_ledger.py fails when
wallet.currencies gains a currency that is not yet in it.
"""

from django.db import migrations

CURRENCIES = ["AUD", "BHD", "BRL", "BTC", "CAD", "CHF", "CLP", "CZK", "DKK", "EUR", "GBP", "HUF", "INR", "ISK",
              "JPY", "KRW", "KWD", "MXN", "NOK", "NZD", "PLN", "RON", "SEK", "TRY", "USD", "ZAR"]
PLAYER_KINDS = ["REAL", "BONUS", "WITHDRAWAL_HOLD"]
HOUSE_KINDS = ["PSP_CLEARING", "GAME_SETTLEMENT", "BONUS_COST", "MANUAL_ADJUSTMENTS", "CHARGEBACK_LOSS"]


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{value}'" for value in values) + "]"


SQL = f"""
CREATE FUNCTION wallet_account_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.kind, NEW.currency, NEW.player_id, NEW.shard)
                            IS DISTINCT FROM (OLD.kind, OLD.currency, OLD.player_id, OLD.shard) THEN
        RAISE EXCEPTION 'wallet_account_identity_fixed: account % keeps its kind, owner, currency and shard', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT NEW.currency = ANY ({_array(CURRENCIES)}) THEN
        RAISE EXCEPTION 'wallet_account_currency_supported: % is not a supported currency', NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT ((NEW.player_id IS NOT NULL AND NEW.kind = ANY ({_array(PLAYER_KINDS)}))
            OR (NEW.player_id IS NULL AND NEW.kind = ANY ({_array(HOUSE_KINDS)}))) THEN
        RAISE EXCEPTION 'wallet_account_kind_matches_owner: % is not a kind of % account', NEW.kind,
            CASE WHEN NEW.player_id IS NULL THEN 'house' ELSE 'player' END
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER wallet_account_identity BEFORE INSERT OR UPDATE OF kind, currency, player_id, shard ON wallet_account
    FOR EACH ROW EXECUTE FUNCTION wallet_account_identity();
"""

REVERSE = """
DROP TRIGGER IF EXISTS wallet_account_identity ON wallet_account;
DROP FUNCTION IF EXISTS wallet_account_identity();
"""


class Migration(migrations.Migration):
    dependencies = [("wallet", "0005_game_post_sql")]

    operations = [
        migrations.RunSQL(SQL, REVERSE),
        migrations.RemoveConstraint(model_name="account", name="wallet_account_kind_matches_owner"),
        migrations.RemoveConstraint(model_name="account", name="wallet_account_currency_supported"),
    ]
