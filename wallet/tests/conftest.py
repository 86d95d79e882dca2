"""Wallet test fixtures. Shared fixtures (brand, player, staff ...) are in the project's conftest.py."""

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def _ledger_guards_checked_at_end(request):
    """The ledger's deferred constraint triggers fire at commit, which a `db` test never reaches (it
    rolls back). Fire them at the end of every such test, so each one also proves the books balance."""
    if "db" not in request.fixturenames or "transactional_db" in request.fixturenames:
        yield
        return
    request.getfixturevalue("db")  # set up first, so this teardown runs before the rollback
    yield
    if not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
