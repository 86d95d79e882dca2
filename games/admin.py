"""Back-office for games: the catalog (editable), and read-only sessions, rounds and provider calls."""

from __future__ import annotations

from django.contrib import admin

from games import selectors
from games.models import Game, GameRound, GameSession, GameTransaction, Vendor
from games.services import sessions
from igaming.admin_tools import CappedCountPaginator, run_with_reason


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "enabled", "launch_url")
    list_filter = ("enabled",)
    search_fields = ("code", "name")


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    list_display = ("name", "vendor", "code", "game_type", "rtp", "enabled", "restricted")
    list_filter = ("enabled", "game_type", "vendor")
    list_select_related = ("vendor",)
    search_fields = ("name", "code")
    autocomplete_fields = ("vendor",)

    @admin.display(description="Restricted in")
    def restricted(self, game: Game) -> str:
        return ", ".join(game.restricted_countries) or "—"


class ReadOnlyAdmin(admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GameSession)
class GameSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "game", "status", "started_at", "ended_at", "rounds", "total_bet", "total_win",
                    "currency")
    list_filter = ("status",)
    list_select_related = ("player", "game")
    # The player id: an exact, indexed search (names and e-mails are searched on the player screen).
    search_fields = ("=player__id", "=id")
    readonly_fields = [field.name for field in GameSession._meta.fields if field.name != "token_hash"]
    exclude = ("token_hash",)
    actions = ["end_sessions"]

    def has_change_permission(self, request, obj=None):
        # The change view is the detail screen; the end action needs the change permission too.
        return request.user.has_perm("games.change_gamesession")

    @admin.action(description="End the selected sessions (with a reason)", permissions=["change"])
    def end_sessions(self, request, queryset):
        return run_with_reason(self, request, queryset, title="End game sessions", apply=lambda session, data: (
            sessions.game_session_end_by_staff(session_id=session.pk, actor=request.user, reason=data["reason"])))


@admin.register(GameRound)
class GameRoundAdmin(ReadOnlyAdmin):
    list_display = ("round_id", "vendor", "player", "game", "status", "total_bet", "total_win", "currency",
                    "created_at")
    list_filter = ("status",)
    list_select_related = ("vendor", "player", "game")
    search_fields = ("=round_id", "=player__id")


@admin.register(GameTransaction)
class GameTransactionAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "kind", "vendor", "player", "amount", "real_amount", "bonus_amount", "currency",
                    "created_at")
    list_filter = ("kind",)
    list_select_related = ("vendor", "player")
    search_fields = ("=external_id", "=reference_id", "=player__id")
    readonly_fields = [field.name for field in GameTransaction._meta.fields] + ["ledger_transaction"]

    @admin.display(description="Ledger transaction")
    def ledger_transaction(self, record: GameTransaction) -> str:
        ledger = selectors.ledger_transaction_of(record)
        return str(ledger) if ledger else "— (no money moved)"
