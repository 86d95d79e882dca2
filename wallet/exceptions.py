"""Wallet refusals. The API maps each to its status and `{"error", "code"}`; the admin shows the message."""

from igaming.errors import Conflict, DomainError, NotFound, PermissionRefused


class WalletError(DomainError):
    code = "wallet_error"


class WalletInputInvalid(WalletError):
    """An amount, currency or key that breaks a wallet rule; `fields` maps each field to its messages."""

    code = "invalid"
    default_message = "Invalid input."


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    default_message = "The balance is too low for this amount."


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_message = "This external id was already used for a different request."


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    default_message = "Payment not found."


class PaymentStateConflict(Conflict):
    code = "payment_state_conflict"
    default_message = "The payment is not in a state that allows this."


class AlreadyReversed(Conflict):
    code = "already_reversed"
    default_message = "This transaction was already reversed."


class DepositsNotAllowed(PermissionRefused):
    code = "deposits_not_allowed"
    default_message = "Deposits are not allowed on this account."


class DepositLimitExceeded(PermissionRefused):
    code = "deposit_limit_exceeded"
    default_message = "This deposit would exceed your deposit limit."


class ReasonRequired(WalletInputInvalid):
    default_message = "A reason is required."

    def __init__(self, message: str | None = None):
        super().__init__(message, fields={"reason": ["A reason is required."]})


class WebhookRefused(WalletError):
    """A PSP webhook that failed authentication: bad signature, stale timestamp or a replay."""

    status_code = 401
    code = "webhook_refused"
    default_message = "Webhook refused."


class WebhookReplayed(Conflict):
    code = "webhook_replayed"
    default_message = "This webhook was already received."


class PspMismatch(Conflict):
    code = "psp_mismatch"
    default_message = "The PSP reported a different amount or currency for this payment."


class PspUnavailable(WalletError):
    status_code = 503
    code = "psp_unavailable"
    default_message = "The payment provider did not answer."


class ReplayCheckUnavailable(WalletError):
    """The replay memory (Redis) cannot be reached: the webhook is refused unchecked; the PSP retries."""

    status_code = 503
    code = "replay_check_unavailable"
    default_message = "The webhook cannot be checked for replay right now; send it again later."
