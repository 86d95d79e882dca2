"""Demo games: the demo vendor (served by the provider simulator) and its slots. Safe to run again."""

from django.core.management.base import BaseCommand

from games.services.catalog import catalog_seed_demo


class Command(BaseCommand):
    help = "Create or update the demo game vendor and its games."

    def handle(self, *args, **options):
        vendor, games = catalog_seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Vendor {vendor.code} -> {vendor.launch_url}"))
        for game in games:
            self.stdout.write(f"  game #{game.pk} {game.name} ({game.game_type}, RTP {game.rtp}%)")
