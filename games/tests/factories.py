"""Games test data: the catalog by factory, money through the wallet's own ledger services."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import factory
from django.db import transaction

from games.models import Game, GameType, Vendor
from games.seamless.signing import signed_headers
from games.services import sessions
from wallet.models import AccountKind, TransactionKind, TransactionSource
from wallet.services.ledger import accounts_for_player, accounts_lock, house_account, ledger_post

VENDOR_CODE = "acme"
VENDOR_SECRET = "acme-test-secret-0123456789"


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ("code",)

    code = VENDOR_CODE
    name = "Acme Games"
    launch_url = "http://provider.test/game"


class GameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Game

    vendor = factory.SubFactory(VendorFactory)
    code = factory.Sequence(lambda n: f"slot-{n}")
    name = factory.Sequence(lambda n: f"Slot {n}")
    game_type = GameType.SLOTS
    rtp = Decimal("96.00")


def fund(player, *, real: str | Decimal = "0", bonus: str | Decimal = "0") -> None:
    """Put real and bonus money on the player's accounts, as booked ledger transactions."""
    with transaction.atomic():
        accounts = accounts_for_player(player, player.currency)
        for kind, amount, house_kind in ((AccountKind.REAL, Decimal(real), AccountKind.MANUAL_ADJUSTMENTS),
                                         (AccountKind.BONUS, Decimal(bonus), AccountKind.BONUS_COST)):
            if not amount:
                continue
            house = house_account(house_kind, player.currency)
            locked = accounts_lock([accounts[kind], house])
            ledger_post(kind=TransactionKind.ADJUSTMENT, source=TransactionSource.SYSTEM, external_id=uuid.uuid4().hex,
                        player=player, currency=player.currency, amount=amount,
                        legs=[(locked[accounts[kind].pk], amount), (locked[house.pk], -amount)])


def launch(player, game):
    """A game session for the player, as the launch API makes it. Returns (session, token)."""
    started = sessions.game_launch(player=player, game_id=game.pk)
    return started.session, started.token


def signed_post(client, path: str, payload: dict, *, vendor: str = VENDOR_CODE, secret: str = VENDOR_SECRET,
                **header_options):
    """POST a provider request to the seamless API, signed as the contract says."""
    body = json.dumps(payload).encode()
    headers = signed_headers(vendor=vendor, secret=secret, body=body, **header_options)
    return client.post(f"/wallet-api/v1/{path}", data=body, content_type="application/json",
                       headers=headers)
