"""A simulated Fast Track CRM: receives real-time events, calls the Operator API back (see server.py)."""
