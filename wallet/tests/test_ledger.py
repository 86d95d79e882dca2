"""The ledger's guarantees: what the services do, and what the database refuses whatever the code does."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from wallet.exceptions import AlreadyReversed, IdempotencyConflict, InsufficientFunds
from wallet.models import Account, AccountKind, Entry, LedgerTransaction, TransactionKind, TransactionSource
from wallet.selectors import house_balance
from wallet.services.ledger import accounts_for_player, accounts_lock, house_account, ledger_post, reversal_legs
from wallet.tests.factories import deposit_approved

pytestmark = pytest.mark.django_db


def check_now():
    """Fire the deferred ledger triggers now, as COMMIT would."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def restore_deferred():
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def post(player, legs_spec, *, external_id="t-1", amount=Decimal("10.00"), kind=TransactionKind.ADJUSTMENT,
         reverses=None):
    """Post `legs_spec` [(account, delta)] through ledger_post in its own transaction."""
    with transaction.atomic():
        locked = accounts_lock([account for account, _ in legs_spec])
        legs = [(locked[account.pk], Decimal(delta)) for account, delta in legs_spec]
        return ledger_post(kind=kind, source=TransactionSource.SYSTEM, external_id=external_id, player=player,
                           currency="EUR", amount=amount, legs=legs, reverses=reverses)


def test_a_posting_writes_balanced_entries_and_updates_the_cached_balances(player):
    real = accounts_for_player(player, "EUR")[AccountKind.REAL]
    house = house_account(AccountKind.MANUAL_ADJUSTMENTS, "EUR")
    assert (real.balance, house.balance) == (0, 0)

    posted = post(player, [(real, "10.00"), (house, "-10.00")])

    assert posted.created
    real.refresh_from_db()
    house.refresh_from_db()
    assert (real.balance, house.balance) == (Decimal("10.00"), Decimal("-10.00"))
    entries = list(posted.transaction.entries.order_by("id").values_list("account_id", "amount", "balance_after"))
    assert entries == [(real.pk, Decimal("10.00"), Decimal("10.00")), (house.pk, Decimal("-10.00"), Decimal("-10.00"))]


def test_a_replayed_external_id_returns_the_first_transaction_and_books_nothing(player):
    real = accounts_for_player(player, "EUR")[AccountKind.REAL]
    house = house_account(AccountKind.MANUAL_ADJUSTMENTS, "EUR")
    first = post(player, [(real, "10.00"), (house, "-10.00")])

    replay = post(player, [(real, "10.00"), (house, "-10.00")])

    assert not replay.created and replay.transaction.pk == first.transaction.pk
    real.refresh_from_db()
    assert real.balance == Decimal("10.00")
    assert Entry.objects.filter(account=real).count() == 1


@pytest.mark.parametrize("change", ["amount", "legs", "kind"])
def test_the_same_external_id_with_other_content_is_a_conflict(player, change):
    real = accounts_for_player(player, "EUR")[AccountKind.REAL]
    house = house_account(AccountKind.MANUAL_ADJUSTMENTS, "EUR")
    post(player, [(real, "10.00"), (house, "-10.00")])
    other = {
        "amount": {"legs_spec": [(real, "11.00"), (house, "-11.00")], "amount": Decimal("11.00")},
        "legs": {"legs_spec": [(real, "-10.00"), (house, "10.00")]},
        "kind": {"legs_spec": [(real, "10.00"), (house, "-10.00")], "kind": TransactionKind.DEPOSIT},
    }[change]

    with pytest.raises(IdempotencyConflict):
        post(player, **other)

    real.refresh_from_db()
    assert real.balance == Decimal("10.00")
    assert LedgerTransaction.objects.count() == 1


def test_a_posting_that_would_overdraw_a_player_account_is_refused(player):
    real = accounts_for_player(player, "EUR")[AccountKind.REAL]
    house = house_account(AccountKind.MANUAL_ADJUSTMENTS, "EUR")

    with pytest.raises(InsufficientFunds):
        post(player, [(real, "-0.01"), (house, "0.01")], amount=Decimal("0.01"))

    assert LedgerTransaction.objects.count() == 0
    real.refresh_from_db()
    assert real.balance == 0


def test_house_accounts_may_go_negative(player):
    deposit_approved(player, "25.00")

    assert house_balance(AccountKind.PSP_CLEARING, "EUR") == Decimal("-25.00")


def test_a_transaction_is_reversed_at_most_once(player):
    real = accounts_for_player(player, "EUR")[AccountKind.REAL]
    house = house_account(AccountKind.MANUAL_ADJUSTMENTS, "EUR")
    original = post(player, [(real, "10.00"), (house, "-10.00")]).transaction

    with transaction.atomic():
        locked = accounts_lock([real, house])
        reversal = ledger_post(kind=TransactionKind.ADJUSTMENT, source=TransactionSource.SYSTEM, external_id="rev-1",
                               player=player, currency="EUR", amount=Decimal("10.00"),
                               legs=reversal_legs(original, locked), reverses=original)
    assert reversal.transaction.reverses_id == original.pk
    real.refresh_from_db()
    assert real.balance == 0

    with pytest.raises(AlreadyReversed), transaction.atomic():
        locked = accounts_lock([real, house])
        ledger_post(kind=TransactionKind.ADJUSTMENT, source=TransactionSource.SYSTEM, external_id="rev-2",
                    player=player, currency="EUR", amount=Decimal("10.00"), legs=reversal_legs(original, locked),
                    reverses=original)
    assert LedgerTransaction.objects.filter(reverses=original).count() == 1


def test_the_database_refuses_a_transaction_whose_entries_do_not_sum_to_zero(player, restore_deferred):
    real = accounts_for_player(player, "EUR")[AccountKind.REAL]
    house = house_account(AccountKind.MANUAL_ADJUSTMENTS, "EUR")

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        ledger_tx = LedgerTransaction.objects.create(kind=TransactionKind.ADJUSTMENT, source=TransactionSource.SYSTEM,
                                                     external_id="bad", currency="EUR", amount=Decimal("10"))
        Entry.objects.create(transaction=ledger_tx, account=real, currency="EUR", amount=Decimal("10"),
                             balance_after=Decimal("10"))
        Entry.objects.create(transaction=ledger_tx, account=house, currency="EUR", amount=Decimal("-9.99"),
                             balance_after=Decimal("-9.99"))
        check_now()

    assert not LedgerTransaction.objects.filter(external_id="bad").exists()


def test_the_database_refuses_a_transaction_without_entries(restore_deferred):
    with pytest.raises(IntegrityError, match="has no entries"), transaction.atomic():
        LedgerTransaction.objects.create(kind=TransactionKind.ADJUSTMENT, source=TransactionSource.SYSTEM,
                                         external_id="empty", currency="EUR", amount=Decimal("1"))
        check_now()

    assert not LedgerTransaction.objects.exists()


def test_the_database_refuses_an_entry_in_another_currency_than_its_account(player, restore_deferred):
    real = accounts_for_player(player, "EUR")[AccountKind.REAL]
    house = house_account(AccountKind.MANUAL_ADJUSTMENTS, "EUR")

    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_tx = LedgerTransaction.objects.create(kind=TransactionKind.ADJUSTMENT, source=TransactionSource.SYSTEM,
                                                     external_id="fx", currency="USD", amount=Decimal("1"))
        Entry.objects.bulk_create([
            Entry(transaction=ledger_tx, account=real, currency="USD", amount=Decimal("1"), balance_after=1),
            Entry(transaction=ledger_tx, account=house, currency="USD", amount=Decimal("-1"), balance_after=-1),
        ])
        check_now()


def test_ledger_rows_cannot_be_updated_or_deleted(player):
    payment = deposit_approved(player, "10.00")
    ledger_tx = payment.transactions.get()
    entry = ledger_tx.entries.first()

    for statement in (f"UPDATE wallet_entry SET amount = 1000 WHERE id = {entry.pk}",
                      f"DELETE FROM wallet_entry WHERE id = {entry.pk}",
                      f"UPDATE wallet_ledgertransaction SET amount = 1000 WHERE id = {ledger_tx.pk}",
                      f"DELETE FROM wallet_ledgertransaction WHERE id = {ledger_tx.pk}"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    entry.refresh_from_db()
    assert entry.amount in (Decimal("10.00"), Decimal("-10.00"))
    assert ledger_tx.entries.count() == 2


def test_the_database_keeps_a_player_balance_at_zero_or_above(player):
    deposit_approved(player, "5.00")
    real = Account.objects.get(player=player, kind=AccountKind.REAL)

    with pytest.raises(IntegrityError, match="balance_not_negative"), transaction.atomic():
        Account.objects.filter(pk=real.pk).update(balance=Decimal("-0.01"))

    real.refresh_from_db()
    assert real.balance == Decimal("5.00")
    clearing = house_account(AccountKind.PSP_CLEARING, "EUR")
    Account.objects.filter(pk=clearing.pk).update(balance=Decimal("-1000"))  # house: allowed


def test_players_on_different_shards_post_to_different_house_rows_that_sum_up(brand, settings):
    from players.tests.factories import PlayerFactory

    settings.WALLET_HOUSE_SHARDS = 4
    first, second = PlayerFactory(brand=brand), PlayerFactory(brand=brand)
    assert first.pk % 4 != second.pk % 4

    deposit_approved(first, "10.00")
    deposit_approved(second, "5.00")

    shards = dict(Account.objects.filter(player__isnull=True, kind=AccountKind.PSP_CLEARING)
                  .values_list("shard", "balance"))
    assert shards == {first.pk % 4: Decimal("-10.00"), second.pk % 4: Decimal("-5.00")}
    assert house_balance(AccountKind.PSP_CLEARING, "EUR") == Decimal("-15.00")


def test_an_account_is_opened_only_with_a_kind_that_suits_its_owner_and_a_supported_currency(player):
    from wallet.currencies import MINOR_UNITS

    for currency in MINOR_UNITS:  # the trigger's frozen list knows every currency the wallet offers
        Account.objects.create(kind=AccountKind.BONUS_COST, currency=currency, shard=7)
    refused = [dict(player=player, kind=AccountKind.REAL, currency="XXX"),
               dict(player=player, kind=AccountKind.PSP_CLEARING, currency="EUR"),
               dict(player=None, kind=AccountKind.REAL, currency="EUR", shard=7)]
    for fields in refused:
        with pytest.raises(IntegrityError, match="currency_supported|kind_matches_owner"), transaction.atomic():
            Account.objects.create(**fields)

    assert Account.objects.filter(shard=7).count() == len(MINOR_UNITS)
    assert not Account.objects.filter(player=player).exists()


def test_an_opened_accounts_kind_owner_currency_and_shard_never_change(player):
    from players.tests.factories import PlayerFactory

    deposit_approved(player, "5.00")
    real = Account.objects.get(player=player, kind=AccountKind.REAL)
    other = PlayerFactory(brand=player.brand)

    for change in ({"currency": "USD"}, {"kind": AccountKind.BONUS}, {"player": other}, {"shard": 1}):
        with pytest.raises(IntegrityError, match="identity_fixed"), transaction.atomic():
            Account.objects.filter(pk=real.pk).update(**change)

    real.refresh_from_db()
    assert (real.currency, real.kind, real.player_id, real.shard) == ("EUR", AccountKind.REAL, player.pk, 0)
    Account.objects.filter(pk=real.pk).update(balance=real.balance)  # a posting's update is not checked


def test_the_identity_trigger_fires_on_opening_and_identity_changes_only():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'wallet_account_identity'")
        [definition] = cursor.fetchone()

    assert "BEFORE INSERT OR UPDATE OF kind, currency, player_id, shard ON public.wallet_account" in definition
