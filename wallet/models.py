"""Models arrive with the wallet issue."""
