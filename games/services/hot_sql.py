"""The statements every bet and win runs, in SQL: the seamless wallet's hot path.

Why not the ORM here: compiling these queries cost more than running them (measured on the bench
machine: 4.7 ms to build and run the session lock with its joins and EXISTS through the ORM, 0.6 ms
as SQL), and a provider's bet waits for every one of them. Each statement here has an ORM twin in
meaning that the tests pin down (see games/tests/test_hot_sql.py); the rest of the games app,
including every rarer path (rollbacks, refusals, the admin), stays on the ORM.

Statements:
- `session_lock`: the session row FOR UPDATE with its player, and whether the player has an active
  block or a loss/wager limit row (so the common player needs no further check query);
- `seen`: the idempotency lookup (the transaction id, and for a bet a rollback that came first);
- `bet_write` / `win_write`: the round (created or added to), the session's totals and the
  `GameTransaction` with its stored answer, in one statement with data-modifying CTEs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

from games.models import GameSession
from players.models import LimitKind, Player

_SESSION_FIELDS = [field for field in GameSession._meta.concrete_fields]
_PLAYER_FIELDS = [field for field in Player._meta.concrete_fields]

# A block is active when it has started, is not lifted yet and has not ended: the same rule as
# players.models.PlayerBlockQuerySet.active (test_hot_sql checks they agree).
SESSION_LOCK = f"""
SELECT {", ".join(f's."{field.column}"' for field in _SESSION_FIELDS)},
       {", ".join(f'p."{field.column}"' for field in _PLAYER_FIELDS)},
       EXISTS (SELECT 1 FROM players_playerblock b
                WHERE b.player_id = s.player_id AND b.starts_at <= %(now)s
                  AND (b.lifted_at IS NULL OR b.lifted_at > %(now)s)
                  AND (b.ends_at IS NULL OR b.ends_at > %(now)s)) AS player_has_blocks,
       EXISTS (SELECT 1 FROM players_responsiblegaminglimit l
                WHERE l.player_id = s.player_id
                  AND l.kind IN ('{LimitKind.LOSS}', '{LimitKind.WAGER}')) AS player_has_money_limits
  FROM games_gamesession s JOIN players_player p ON p.id = s.player_id
 WHERE s.token_hash = %(token_hash)s
   FOR UPDATE OF s
"""

SEEN = """
SELECT external_id, kind, request_hash, response
  FROM games_gametransaction
 WHERE vendor_id = %(vendor)s AND (external_id = %(id)s OR (%(bet)s AND kind = 'ROLLBACK' AND reference_id = %(id)s))
"""

_TX_COLUMNS = """vendor_id, external_id, kind, player_id, session_id, round_id, currency, amount, real_amount,
                 bonus_amount, reference_id, request_hash, response, created_at"""
_TX_VALUES = """%(vendor)s, %(id)s, %(kind)s, %(player)s, %(session)s, round.id, %(currency)s, %(amount)s, %(real)s,
                %(bonus)s, '', %(hash)s, %(response)s::jsonb, %(now)s"""

# A new round is created; an open round of the same player is added to. Any other round (another
# player's, or closed) makes the statement write nothing and return no row: the caller finds out why.
BET_WRITE = f"""
WITH round AS (
    INSERT INTO games_gameround AS r (vendor_id, round_id, player_id, session_id, game_id, currency, status,
                                      total_bet, total_win, created_at)
    VALUES (%(vendor)s, %(round_id)s, %(player)s, %(session)s, %(game)s, %(currency)s, 'OPEN', %(amount)s, 0,
            %(now)s)
    ON CONFLICT (vendor_id, round_id) DO UPDATE SET total_bet = r.total_bet + EXCLUDED.total_bet
        WHERE r.player_id = EXCLUDED.player_id AND r.status = 'OPEN'
    RETURNING r.id, (r.xmax = 0) AS created
), session AS (
    UPDATE games_gamesession
       SET total_bet = total_bet + %(amount)s, rounds = rounds + (SELECT COUNT(*) FROM round WHERE created),
           last_activity_at = %(last_activity_at)s, expires_at = %(expires_at)s
     WHERE id = %(session)s AND EXISTS (SELECT 1 FROM round)
    RETURNING rounds, total_bet
)
INSERT INTO games_gametransaction ({_TX_COLUMNS})
SELECT {_TX_VALUES} FROM round
RETURNING (SELECT created FROM round)
"""

WIN_WRITE = f"""
WITH round AS (
    UPDATE games_gameround
       SET total_win = total_win + %(amount)s,
           status = CASE WHEN %(closes)s THEN 'CLOSED' ELSE status END,
           closed_at = CASE WHEN %(closes)s THEN %(now)s ELSE closed_at END
     WHERE vendor_id = %(vendor)s AND round_id = %(round_id)s AND player_id = %(player)s AND status = 'OPEN'
    RETURNING id
), session AS (
    UPDATE games_gamesession
       SET total_win = total_win + %(amount)s, last_activity_at = %(last_activity_at)s, expires_at = %(expires_at)s
     WHERE id = %(session)s AND EXISTS (SELECT 1 FROM round)
    RETURNING total_win
)
INSERT INTO games_gametransaction ({_TX_COLUMNS})
SELECT {_TX_VALUES} FROM round
RETURNING id
"""


def session_lock(*, token_hash: str, now: datetime) -> GameSession | None:
    """The session FOR UPDATE, its `player` set, and `player_has_blocks` / `player_has_money_limits`."""
    with connection.cursor() as cursor:
        cursor.execute(SESSION_LOCK, {"token_hash": token_hash, "now": now})
        row = cursor.fetchone()
    if row is None:
        return None
    count = len(_SESSION_FIELDS)
    session = GameSession.from_db(connection.alias, [field.attname for field in _SESSION_FIELDS], row[:count])
    player = Player.from_db(connection.alias, [field.attname for field in _PLAYER_FIELDS],
                            row[count:count + len(_PLAYER_FIELDS)])
    session.player = player
    session.player_has_blocks, session.player_has_money_limits = row[-2], row[-1]
    return session


@dataclass(frozen=True)
class Seen:
    external_id: str
    kind: str
    request_hash: str
    response: dict


def seen(*, vendor_id: int, transaction_id: str, bet: bool) -> list[Seen]:
    with connection.cursor() as cursor:
        cursor.execute(SEEN, {"vendor": vendor_id, "id": transaction_id, "bet": bet})
        rows = cursor.fetchall()
    return [Seen(external_id, kind, request_hash, response if isinstance(response, dict) else json.loads(response))
            for external_id, kind, request_hash, response in rows]


def _activity(session: GameSession) -> dict:
    return {"last_activity_at": session.last_activity_at, "expires_at": session.expires_at}


def bet_write(*, session: GameSession, vendor_id: int, transaction_id: str, round_id: str, amount: Decimal,
              real: Decimal, bonus: Decimal, fingerprint: str, answer: dict, now: datetime) -> bool | None:
    """Write the bet's round, session totals and record. True: the round is new; False: added to an open
    round; None: nothing written (the round is another player's, or closed)."""
    params = {"vendor": vendor_id, "round_id": round_id, "player": session.player_id, "session": session.pk,
              "game": session.game_id, "currency": session.currency, "amount": amount, "now": now,
              "id": transaction_id, "kind": "BET", "real": real, "bonus": bonus, "hash": fingerprint,
              "response": json.dumps(answer), **_activity(session)}
    with connection.cursor() as cursor:
        cursor.execute(BET_WRITE, params)
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def win_write(*, session: GameSession, vendor_id: int, transaction_id: str, round_id: str, amount: Decimal,
              closes: bool, fingerprint: str, answer: dict, now: datetime) -> bool:
    """Write the win's round, session totals and record. False: nothing written (no open round of the player)."""
    params = {"vendor": vendor_id, "round_id": round_id, "player": session.player_id, "session": session.pk,
              "currency": session.currency, "amount": amount, "now": now, "closes": closes, "id": transaction_id,
              "kind": "WIN", "real": amount, "bonus": Decimal(0), "hash": fingerprint,
              "response": json.dumps(answer), **_activity(session)}
    with connection.cursor() as cursor:
        cursor.execute(WIN_WRITE, params)
        return cursor.fetchone() is not None
