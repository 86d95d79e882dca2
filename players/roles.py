"""Staff roles as groups with least privilege: the one list of who may do what.

Migrations call `roles_ensure()` (players 0002, and each later app that adds permissions), so a new
install has the roles. Permissions not created yet are skipped and picked up by a later call.
"""

from django.contrib.auth.management import create_permissions

ROLES: dict[str, list[str] | str] = {
    "Compliance": [
        "players.view_player", "players.change_player", "players.block_player", "players.set_kyc_status",
        "players.manage_player_limits", "players.view_player_consents", "players.view_playerblock",
        "players.view_responsiblegaminglimit", "players.view_limitchange", "players.view_consentchange",
        "players.view_playerlogin", "players.view_playernote", "players.note_player", "audit.view_auditentry",
        "crm.view_outboxevent",
        # Wallet: the withdrawal queue, manual adjustments, the ledger and reconciliation.
        "wallet.view_payment", "wallet.approve_withdrawal", "wallet.view_account", "wallet.adjust_balance",
        "wallet.view_ledger", "wallet.view_ledgertransaction", "wallet.view_entry", "wallet.view_pspwebhook",
        "wallet.view_reconciliationrun",
        # Games: the catalog, sessions (and ending one), rounds and provider calls.
        "games.view_vendor", "games.view_game", "games.view_gamesession", "games.change_gamesession",
        "games.view_gameround", "games.view_gametransaction",
    ],
    "Marketing": [
        "players.view_player", "players.view_player_consents", "players.view_consentchange",
        "crm.view_outboxevent", "games.view_vendor", "games.view_game",
    ],
    "Support": [
        "players.view_player", "players.change_player", "players.note_player", "players.impersonate_player",
        "players.view_playerlogin", "players.view_playernote", "players.view_playerblock",
        "players.view_responsiblegaminglimit",
        "wallet.view_payment", "wallet.view_ledgertransaction",
        "games.view_game", "games.view_gamesession", "games.view_gametransaction",
    ],
    "Admin": "__all__",
}


def roles_ensure(apps=None) -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    if apps is None:
        from django.apps import apps
    for app_config in apps.get_app_configs():
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = had_models
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        if codes == "__all__":
            group.permissions.set(Permission.objects.all())
            continue
        wanted = [code.split(".") for code in codes]
        for app_label, codename in wanted:
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)
