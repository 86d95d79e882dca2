"""Every write of the wallet. `ledger` books money; `payments`, `adjustments`, `webhooks`, `payouts`
and `reconcile` are the use-cases built on it. Other apps call these, never the models."""
