"""An entry's account is checked once, by the composite foreign key (account_id, currency) of 0002.

Django's own foreign key on account_id checked the same row again on every entry (two to three per
game bet or win), with nothing the composite key does not already say.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("wallet", "0007_game_post_generic_plan"),
    ]

    operations = [
        migrations.AlterField(
            model_name="entry", name="account",
            field=models.ForeignKey(db_constraint=False, db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="entries",
                                    to="wallet.account"),
        ),
    ]
