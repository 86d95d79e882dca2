"""What the database itself guarantees about the ledger (see wallet/models.py).

- Every ledger transaction balances to zero per currency and has entries: deferred constraint
  triggers, checked at commit, so a service can insert a transaction and then its entries.
- Transactions and entries are append-only: UPDATE and DELETE raise.
- An entry's currency is its account's: composite foreign key (account_id, currency).
"""

from django.db import migrations

GUARDS = """
CREATE FUNCTION wallet_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallet ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER wallet_entry_append_only BEFORE UPDATE OR DELETE ON wallet_entry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();
CREATE TRIGGER wallet_transaction_append_only BEFORE UPDATE OR DELETE ON wallet_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();

CREATE FUNCTION wallet_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT currency, SUM(amount) AS total INTO unbalanced
      FROM wallet_entry WHERE transaction_id = NEW.transaction_id
     GROUP BY currency HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in %: entries sum to %',
            NEW.transaction_id, unbalanced.currency, unbalanced.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER wallet_entry_balanced AFTER INSERT ON wallet_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet_entry_balanced();

CREATE FUNCTION wallet_transaction_has_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM wallet_entry WHERE transaction_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger transaction % has no entries', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER wallet_transaction_has_entries AFTER INSERT ON wallet_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet_transaction_has_entries();

ALTER TABLE wallet_entry ADD CONSTRAINT wallet_entry_account_currency
    FOREIGN KEY (account_id, currency) REFERENCES wallet_account (id, currency);
"""

DROP = """
ALTER TABLE wallet_entry DROP CONSTRAINT IF EXISTS wallet_entry_account_currency;
DROP TRIGGER IF EXISTS wallet_transaction_has_entries ON wallet_ledgertransaction;
DROP FUNCTION IF EXISTS wallet_transaction_has_entries();
DROP TRIGGER IF EXISTS wallet_entry_balanced ON wallet_entry;
DROP FUNCTION IF EXISTS wallet_entry_balanced();
DROP TRIGGER IF EXISTS wallet_transaction_append_only ON wallet_ledgertransaction;
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
DROP FUNCTION IF EXISTS wallet_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_ledger")]

    operations = [migrations.RunSQL(GUARDS, DROP)]
