"""Rounds and calls are checked against their session with composite foreign keys (see games/models.py).

Before, each round had four foreign keys (session, player, game, vendor) and each call four (session,
player, round, vendor), each checked at commit with a KEY SHARE lock on the row it names. The vendor's
and the game's rows are shared by every player of a game, so concurrent calls kept locking the same
two rows: a lock taken while others hold one creates a multixact (measured in the games benchmark:
1.1 per call), and every lock is a WAL record. Now a round has one composite key, (session, player,
game, vendor) -> the session, and a call (session, player, vendor) -> the session besides its round:
the session row is the one the wallet call already holds FOR UPDATE, so the checks lock nothing more,
and the denormalised columns are still guaranteed to be the session's. The session keeps its game's
vendor, checked by (game, vendor) -> the game when it is created.

Measured on the bench machine before writing this (interleaved paced runs at 580 calls/s, the same
constraints dropped and added back in turn, four pairs): the PostgreSQL backends spent 0.05-0.45 ms
less per call without them.

The keys are added NOT VALID: adding one then takes its lock for a moment instead of for a scan of
every round and every call. Migration 0009 validates them, in a transaction of its own, under a lock
that lets the wallet go on writing.
"""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
SET CONSTRAINTS ALL IMMEDIATE;  -- no pending foreign-key checks may be left for the ALTER TABLEs after
UPDATE games_gamesession s SET vendor_id = g.vendor_id FROM games_game g WHERE g.id = s.game_id;
SET CONSTRAINTS ALL DEFERRED;
"""

COMPOSITE_KEYS = """
ALTER TABLE games_gamesession ADD CONSTRAINT game_session_game_vendor_fk
    FOREIGN KEY (game_id, vendor_id) REFERENCES games_game (id, vendor_id) DEFERRABLE INITIALLY DEFERRED NOT VALID;
ALTER TABLE games_gameround ADD CONSTRAINT game_round_session_fk
    FOREIGN KEY (session_id, player_id, game_id, vendor_id)
    REFERENCES games_gamesession (id, player_id, game_id, vendor_id) DEFERRABLE INITIALLY DEFERRED NOT VALID;
ALTER TABLE games_gametransaction ADD CONSTRAINT game_tx_session_fk
    FOREIGN KEY (session_id, player_id, vendor_id)
    REFERENCES games_gamesession (id, player_id, vendor_id) DEFERRABLE INITIALLY DEFERRED NOT VALID;
"""
COMPOSITE_KEYS_DROP = """
ALTER TABLE games_gametransaction DROP CONSTRAINT IF EXISTS game_tx_session_fk;
ALTER TABLE games_gameround DROP CONSTRAINT IF EXISTS game_round_session_fk;
ALTER TABLE games_gamesession DROP CONSTRAINT IF EXISTS game_session_game_vendor_fk;
"""


def _fk(to: str, related_name: str, **options):
    return models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name=related_name, to=to,
                             **options)


class Migration(migrations.Migration):

    dependencies = [
        ("games", "0007_fast_path_key_lookups"),
        ("players", "0003_search_last_name_prefix"),
    ]

    operations = [
        migrations.AddField(
            model_name="gamesession", name="vendor",
            field=_fk("games.vendor", "+", db_index=False, editable=False, null=True),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="gamesession", name="vendor",
            field=_fk("games.vendor", "+", db_index=False, editable=False),
        ),
        migrations.AddConstraint(
            model_name="game", constraint=models.UniqueConstraint(fields=("id", "vendor"), name="game_id_vendor"),
        ),
        migrations.AddConstraint(
            model_name="gamesession",
            constraint=models.UniqueConstraint(fields=("id", "player", "game", "vendor"), name="game_session_round_key"),
        ),
        migrations.AddConstraint(
            model_name="gamesession",
            constraint=models.UniqueConstraint(fields=("id", "player", "vendor"), name="game_session_call_key"),
        ),
        migrations.AlterField(
            model_name="gameround", name="game",
            field=_fk("games.game", "+", db_constraint=False, db_index=False),
        ),
        migrations.AlterField(
            model_name="gameround", name="player",
            field=_fk("players.player", "game_rounds", db_constraint=False, db_index=False),
        ),
        migrations.AlterField(
            model_name="gameround", name="session",
            field=_fk("games.gamesession", "game_rounds", db_constraint=False),
        ),
        migrations.AlterField(
            model_name="gameround", name="vendor",
            field=_fk("games.vendor", "+", db_constraint=False, db_index=False),
        ),
        migrations.AlterField(
            model_name="gametransaction", name="player",
            field=_fk("players.player", "game_transactions", db_constraint=False, db_index=False),
        ),
        migrations.AlterField(
            model_name="gametransaction", name="session",
            field=_fk("games.gamesession", "transactions", db_constraint=False),
        ),
        migrations.AlterField(
            model_name="gametransaction", name="vendor",
            field=_fk("games.vendor", "+", db_constraint=False, db_index=False),
        ),
        migrations.RunSQL(COMPOSITE_KEYS, COMPOSITE_KEYS_DROP),
    ]
