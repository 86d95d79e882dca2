"""Validate the composite keys migration 0008 added NOT VALID.

VALIDATE CONSTRAINT reads every existing round and call under a SHARE UPDATE EXCLUSIVE lock, which lets
inserts and updates go on; adding the keys with their check, as 0008 did at first, held a lock that
stopped the wallet's writes for the whole scan. New rows were checked from the moment 0008 committed.
"""

from django.db import migrations

VALIDATE = """
ALTER TABLE games_gamesession VALIDATE CONSTRAINT game_session_game_vendor_fk;
ALTER TABLE games_gameround VALIDATE CONSTRAINT game_round_session_fk;
ALTER TABLE games_gametransaction VALIDATE CONSTRAINT game_tx_session_fk;
"""


class Migration(migrations.Migration):
    dependencies = [("games", "0008_play_checked_against_its_session")]

    operations = [migrations.RunSQL(VALIDATE, migrations.RunSQL.noop)]
