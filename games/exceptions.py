"""Errors of the games: the stable codes of the seamless-wallet contract, also used by the launch API.

Each error carries its HTTP status and an UPPER_CASE code that providers program against; the codes
never change meaning. A seamless answer adds the player's balance when the player is known.
"""

from __future__ import annotations

from igaming.errors import DomainError


class GamesError(DomainError):
    status_code = 400
    code = "GAMES_ERROR"

    def __init__(self, message: str | None = None, *, fields: dict | None = None, player=None):
        super().__init__(message, fields=fields)
        # Set when the player is known, so that the seamless answer can carry the balance.
        self.player = player


class InvalidRequest(GamesError):
    code = "INVALID_REQUEST"
    default_message = "The request is not valid."


class CurrencyMismatch(GamesError):
    code = "CURRENCY_MISMATCH"
    default_message = "The currency is not the session's currency."


class UnknownProvider(GamesError):
    status_code = 401
    code = "UNKNOWN_PROVIDER"
    default_message = "Unknown or disabled provider."


class InvalidSignature(GamesError):
    status_code = 401
    code = "INVALID_SIGNATURE"
    default_message = "The request signature is not valid."


class RequestExpired(GamesError):
    status_code = 401
    code = "REQUEST_EXPIRED"
    default_message = "The request timestamp is outside the accepted window."


class RequestReplayed(GamesError):
    status_code = 401
    code = "REQUEST_REPLAYED"
    default_message = "This signed request was already received."


class InvalidToken(GamesError):
    status_code = 401
    code = "INVALID_TOKEN"
    default_message = "Unknown session token."


class SessionExpired(GamesError):
    status_code = 403
    code = "SESSION_EXPIRED"
    default_message = "The game session has ended."


class PlayerBlocked(GamesError):
    status_code = 403
    code = "PLAYER_BLOCKED"
    default_message = "The player may not play."


class LimitReached(GamesError):
    status_code = 403
    code = "LIMIT_REACHED"
    default_message = "A responsible-gaming limit is reached."


class GameNotFound(GamesError):
    status_code = 404
    code = "GAME_NOT_FOUND"
    default_message = "Game not found."


class GameUnavailable(GamesError):
    status_code = 403
    code = "GAME_UNAVAILABLE"
    default_message = "This game is not available to the player."


class SessionNotFound(GamesError):
    status_code = 404
    code = "SESSION_NOT_FOUND"
    default_message = "Game session not found."


class InsufficientFunds(GamesError):
    status_code = 402
    code = "INSUFFICIENT_FUNDS"
    default_message = "The balance is too low for this bet."


class DuplicateTransaction(GamesError):
    status_code = 409
    code = "DUPLICATE_TRANSACTION"
    default_message = "This transaction id was already used for a different request."


class TransactionNotFound(GamesError):
    status_code = 404
    code = "TRANSACTION_NOT_FOUND"
    default_message = "The referenced transaction does not exist."


class TransactionRolledBack(GamesError):
    status_code = 409
    code = "TRANSACTION_ROLLED_BACK"
    default_message = "This bet was already rolled back; it cannot be taken."


class RoundNotFound(GamesError):
    status_code = 404
    code = "ROUND_NOT_FOUND"
    default_message = "No bet was taken in this round."


class RoundClosed(GamesError):
    status_code = 409
    code = "ROUND_CLOSED"
    default_message = "The round is closed."


class ServiceUnavailable(GamesError):
    """The replay store (Redis) cannot be reached: the request is refused unchecked, and may be retried."""

    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "The wallet cannot check this request right now; retry it."
