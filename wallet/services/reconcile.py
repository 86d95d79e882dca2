"""Reconciliation: prove that the cached balances are the ledger, and the ledger balances."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.utils import timezone

from wallet.models import ReconciliationRun, ReconciliationStatus

logger = logging.getLogger(__name__)
DETAIL_ROWS = 100

# Accounts whose cached balance is not the sum of their entries, or not their last running balance.
ACCOUNT_DRIFT = """
WITH sums AS (SELECT account_id, SUM(amount) AS total FROM wallet_entry GROUP BY account_id),
     last AS (SELECT DISTINCT ON (account_id) account_id, balance_after FROM wallet_entry
              ORDER BY account_id, id DESC)
SELECT a.id, a.player_id, a.kind, a.currency, a.balance, COALESCE(s.total, 0), l.balance_after
  FROM wallet_account a
  LEFT JOIN sums s ON s.account_id = a.id
  LEFT JOIN last l ON l.account_id = a.id
 WHERE a.balance <> COALESCE(s.total, 0) OR a.balance <> COALESCE(l.balance_after, 0)
 ORDER BY a.id
"""
CURRENCY_TOTALS = "SELECT currency, SUM(amount) FROM wallet_entry GROUP BY currency HAVING SUM(amount) <> 0"
UNBALANCED_TRANSACTIONS = """
SELECT transaction_id, currency, SUM(amount) FROM wallet_entry GROUP BY transaction_id, currency
HAVING SUM(amount) <> 0 ORDER BY transaction_id LIMIT %s
"""
NEGATIVE_PLAYER_ACCOUNTS = "SELECT id FROM wallet_account WHERE player_id IS NOT NULL AND balance < 0 ORDER BY id"


def reconcile_run(*, trigger: str = "command") -> ReconciliationRun:
    """Check every account (cached balance == sum of its entries == its last running balance), every
    currency (all entries sum to zero) and every transaction (balances per currency).

    Reads one consistent snapshot (REPEATABLE READ, read-only), so payments may go on meanwhile.
    Locks nothing. Writes one ReconciliationRun: OK, DRIFT (with the first rows found) or FAILED.
    """
    run = ReconciliationRun.objects.create(trigger=trigger)
    own_transaction = not connection.in_atomic_block  # inside a caller's transaction, read its view
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if own_transaction:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT (SELECT COUNT(*) FROM wallet_account), (SELECT COUNT(*) FROM wallet_entry)")
            accounts_checked, entries_checked = cursor.fetchone()
            cursor.execute(ACCOUNT_DRIFT)
            accounts = [{"account": row[0], "player": row[1], "kind": row[2], "currency": row[3],
                         "cached": f"{row[4]:f}", "ledger": f"{row[5]:f}",
                         "last_running": None if row[6] is None else f"{row[6]:f}"} for row in cursor.fetchall()]
            cursor.execute(CURRENCY_TOTALS)
            currencies = [{"currency": row[0], "total": f"{row[1]:f}"} for row in cursor.fetchall()]
            cursor.execute(UNBALANCED_TRANSACTIONS, [DETAIL_ROWS])
            unbalanced = [{"transaction": row[0], "currency": row[1], "total": f"{row[2]:f}"}
                          for row in cursor.fetchall()]
            cursor.execute(NEGATIVE_PLAYER_ACCOUNTS)
            negative = [row[0] for row in cursor.fetchall()]
    except Exception as error:
        run.status, run.finished_at = ReconciliationStatus.FAILED, timezone.now()
        run.details = {"error": f"{type(error).__name__}: {error}"[:1000]}
        run.save(update_fields=["status", "finished_at", "details"])
        raise
    drift = len(accounts) + len(currencies) + len(unbalanced) + len(negative)
    run.accounts_checked, run.entries_checked, run.drift_count = accounts_checked, entries_checked, drift
    run.status = ReconciliationStatus.DRIFT if drift else ReconciliationStatus.OK
    run.details = {"accounts": accounts[:DETAIL_ROWS], "currencies": currencies, "transactions": unbalanced,
                   "negative_player_accounts": negative[:DETAIL_ROWS]}
    run.finished_at = timezone.now()
    run.save(update_fields=["accounts_checked", "entries_checked", "drift_count", "status", "details",
                            "finished_at"])
    if drift:
        logger.error("wallet reconciliation #%s found drift: %s accounts, %s currencies, %s transactions",
                     run.pk, len(accounts), len(currencies), len(unbalanced))
    return run
