"""Models arrive with the games issue."""
