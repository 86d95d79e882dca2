"""Models arrive with the bonuses issue."""
