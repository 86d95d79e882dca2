"""Shapes of the player's games API (/api/v1/games/). Rules live in the services; these only render."""

from rest_framework import serializers

from games.models import Game, GameSession


class GameOut(serializers.ModelSerializer):
    vendor = serializers.CharField(source="vendor.name")
    vendor_id = serializers.CharField(source="vendor.code")
    rtp = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Return to player, percent.")

    class Meta:
        model = Game
        fields = ["id", "code", "name", "game_type", "rtp", "vendor", "vendor_id"]


class RealityCheckOut(serializers.Serializer):
    due = serializers.BooleanField()
    minutes_played = serializers.IntegerField()
    interval_minutes = serializers.IntegerField()
    total_bet = serializers.DecimalField(max_digits=30, decimal_places=2)
    total_win = serializers.DecimalField(max_digits=30, decimal_places=2)
    next_at = serializers.DateTimeField(allow_null=True)


class SessionOut(serializers.ModelSerializer):
    game = GameOut()
    total_bet = serializers.DecimalField(max_digits=30, decimal_places=2)
    total_win = serializers.DecimalField(max_digits=30, decimal_places=2)
    reality_check = serializers.SerializerMethodField()

    class Meta:
        model = GameSession
        fields = ["id", "game", "status", "currency", "started_at", "last_activity_at", "expires_at", "limit_ends_at",
                  "ended_at", "end_reason", "rounds", "total_bet", "total_win", "reality_check"]

    def get_reality_check(self, session) -> dict | None:
        check = self.context.get("reality_check")
        return RealityCheckOut(check).data if check else None


class LaunchOut(serializers.Serializer):
    session = SessionOut()
    launch_url = serializers.URLField(help_text="Open this page to play; it carries the session token.")
