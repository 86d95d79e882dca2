"""Operator API keys from the command line: create, list, revoke, and ensure (for local clients).

    manage.py operator_api_key create "Fast Track production"
    manage.py operator_api_key list
    manage.py operator_api_key revoke op_0123456789abcdef0123
    manage.py operator_api_key ensure fasttrack-simulator --print-env
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crm.models import OperatorApiKey
from crm.operator_api import services
from igaming.errors import DomainError

ACTOR_LABEL = "manage.py operator_api_key"


class Command(BaseCommand):
    help = "Create, list, revoke Operator API keys (the credentials Fast Track uses to call us)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="create a key and print its secret, once")
        create.add_argument("name")
        commands.add_parser("list", help="list keys (never their secrets)")
        revoke = commands.add_parser("revoke", help="revoke a key: its credentials and tokens stop working")
        revoke.add_argument("client_id")
        revoke.add_argument("--reason", default="")
        ensure = commands.add_parser(
            "ensure", help="reuse the key whose credentials are saved in a 0600 file, or create one and save it")
        ensure.add_argument("name")
        ensure.add_argument("--credentials-file", help="default: OPERATOR_API_CREDENTIALS_DIR/<name>.env")
        ensure.add_argument("--print-env", action="store_true", help="print <PREFIX>_CLIENT_ID=, <PREFIX>_SECRET=")
        ensure.add_argument("--env-prefix", default="FT_SIM")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as error:
            raise CommandError(error.message) from None

    def _create(self, *, name, **options):
        issued = services.operator_api_key_create(name=name, actor_label=ACTOR_LABEL)
        self.stdout.write(
            f"Created Operator API key {issued.key.name!r}. The secret is shown this once; store it now.\n"
            f"  client id: {issued.client_id}\n"
            f"  secret:    {issued.secret}\n"
            f"  X-Api-Key: {issued.api_key}\n"
            "Use the client id and secret for HTTP Basic or at POST /fasttrack/oauth/token."
        )

    def _list(self, **options):
        keys = OperatorApiKey.objects.order_by("created_at", "id")
        if not keys:
            self.stdout.write("No Operator API keys.")
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(f"{key.client_id}  {state:<24} created {key.created_at:%Y-%m-%d %H:%M}  "
                              f"last used {used}  {key.name}")

    def _revoke(self, *, client_id, reason, **options):
        key = services.operator_api_key_revoke(client_id=client_id, actor_label=ACTOR_LABEL, reason=reason)
        self.stdout.write(f"Revoked {key.client_id} ({key.name}).")

    def _ensure(self, *, name, credentials_file, print_env, env_prefix, **options):
        issued, created = services.operator_api_key_ensure(name=name, credentials_path=credentials_file)
        if print_env:
            self.stdout.write(f"{env_prefix}_CLIENT_ID={issued.client_id}\n{env_prefix}_SECRET={issued.secret}")
        else:
            self.stdout.write(f"{'Created' if created else 'Reusing'} Operator API key {issued.client_id} "
                              f"({issued.key.name}).")
