from django.db import migrations


def grant_games_permissions(apps, schema_editor):
    from players.roles import roles_ensure

    roles_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("games", "0001_initial"),
        ("players", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant_games_permissions, migrations.RunPython.noop)]
