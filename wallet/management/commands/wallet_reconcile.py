"""`python manage.py wallet_reconcile`: check every account against the ledger and print the result.

Exit status 0 when the books balance, 1 on drift (so cron and CI can alert).
"""

from django.core.management.base import BaseCommand

from wallet.models import ReconciliationStatus
from wallet.services.reconcile import reconcile_run


class Command(BaseCommand):
    help = "Reconcile every wallet account: cached balance == sum of entries; every currency sums to zero."

    def handle(self, *args, **options):
        run = reconcile_run(trigger="command")
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(f"reconciliation #{run.pk}: {run.status} — {run.accounts_checked} accounts, "
                          f"{run.entries_checked} entries, {run.drift_count} problems, {seconds:.2f} s")
        details = run.details
        for row in details.get("accounts", []):
            self.stdout.write(f"  account #{row['account']} ({row['kind']} {row['currency']}, player "
                              f"{row['player'] or 'house'}): cached {row['cached']}, ledger {row['ledger']}, "
                              f"last running balance {row['last_running']}")
        for row in details.get("currencies", []):
            self.stdout.write(f"  currency {row['currency']}: entries sum to {row['total']}, not 0")
        for row in details.get("transactions", []):
            self.stdout.write(f"  transaction #{row['transaction']}: {row['currency']} entries sum to {row['total']}")
        for account_id in details.get("negative_player_accounts", []):
            self.stdout.write(f"  account #{account_id}: negative player balance")
        if run.status != ReconciliationStatus.OK:
            raise SystemExit(1)
