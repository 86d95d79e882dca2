from django.db import migrations


def grant_wallet_permissions(apps, schema_editor):
    from players.roles import roles_ensure

    roles_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0002_ledger_guards"),
        ("players", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant_wallet_permissions, migrations.RunPython.noop)]
