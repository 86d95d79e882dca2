from igaming.errors import Conflict, DomainError, NotFound, PermissionRefused


class PlayerError(DomainError):
    code = "player_error"


class PlayerInputInvalid(PlayerError):
    """Input that breaks a player rule; `fields` maps each field to its messages."""

    code = "invalid"
    default_message = "Invalid input."


class PlayerNotFound(NotFound):
    code = "player_not_found"
    default_message = "Player not found."


class InvalidCredentials(PlayerError):
    status_code = 401
    code = "invalid_credentials"
    default_message = "Wrong username or password."


class LoginLockedOut(PlayerError):
    status_code = 429
    code = "too_many_attempts"
    default_message = "Too many failed logins. Try again later."


class LoginUnavailable(PlayerError):
    status_code = 503
    code = "login_unavailable"
    default_message = "Logging in is not possible right now. Try again in a moment."


class AccountDeactivated(PermissionRefused):
    code = "account_deactivated"
    default_message = "This account is deactivated."


class CurrencyFixed(Conflict):
    code = "currency_fixed"
    default_message = "The currency of an account cannot change once set."


class AlreadyExcluded(Conflict):
    code = "already_excluded"
    default_message = "The player is already excluded."


class NothingToLift(Conflict):
    code = "nothing_to_lift"
    default_message = "The player has no active block of that kind."


class ReasonRequired(PlayerInputInvalid):
    default_message = "A reason is required."

    def __init__(self, message: str | None = None):
        super().__init__(message, fields={"reason": ["A reason is required."]})
