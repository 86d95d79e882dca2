"""Simulators of the outside parties (Fast Track, game provider, payment provider).

Each one is a separate process with its own HTTP server, run with `python -m simulators.<name>`.
They live outside the Django apps: the platform never imports them, it only talks to them over HTTP.
"""
