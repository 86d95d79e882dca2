"""The payment provider (PSP) simulator: a separate process the platform talks to over HTTP only.

It plays the PSP of docs/wallet.md: a hosted payment page the player is sent to (pay, decline or
cancel, then back to the merchant), a server-to-server API for tests and benchmarks, payouts, and
signed webhooks (HMAC-SHA256 over "<timestamp>.<body>") to the platform. It can be told to decline,
time out, or send every webhook twice. Standard library only; state lives in this process's memory.
"""
