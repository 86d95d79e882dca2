"""The game provider simulator: a mock slot that plays through the platform's seamless-wallet API.

A separate process (`python -m simulators.provider`), standard library only. It never imports the
platform: it signs its requests with the vendor secret it is given, like a real provider would.
"""
