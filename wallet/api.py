"""Wallet API (/api/v1/wallet/) and the PSP webhook: parse input, call one service, render output."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from igaming.parsers import DecimalJSONParser
from wallet import psp, selectors, serializers
from wallet.exceptions import PaymentNotFound
from wallet.models import PaymentKind
from wallet.services import payments, webhooks

ERROR = OpenApiResponse(description='`{"error": ..., "code": ..., "fields": {...}}`')
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
    description="1-100 characters [A-Za-z0-9._:-], unique per request. Sending the same key again returns the "
                "first result (with `Idempotent-Replayed: true`); the same key with another amount is a 409.",
)


def parse(serializer_class, data):
    if not isinstance(data, dict):
        raise ParseError("Send a JSON object.")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def deposit_body(payment) -> dict:
    body = serializers.PaymentOut(payment).data
    body["redirect_url"] = psp.checkout_url(payment) if payment.status == "Requested" else None
    return body


class WalletView(APIView):
    parser_classes = [DecimalJSONParser]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS


class BalanceView(WalletView):
    @extend_schema(responses={200: serializers.WalletBalanceOut}, summary="Balances in the player's currency")
    def get(self, request):
        return Response(serializers.WalletBalanceOut(selectors.wallet_balance(request.user)).data)


class PaymentListView(WalletView):
    kind: str

    def list(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.player_payments(request.user, self.kind), request, view=self)
        return paginator.get_paginated_response(serializers.PaymentOut(page, many=True).data)

    def create(self, request, service):
        data = parse(serializers.PaymentIn, request.data)
        result = service(player=request.user, amount=data["amount"], currency=data["currency"],
                         external_id=request.headers.get("Idempotency-Key"))
        body = deposit_body(result.payment) if self.kind == PaymentKind.DEPOSIT else \
            serializers.PaymentOut(result.payment).data
        headers = {} if result.created else {"Idempotent-Replayed": "true"}
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


class DepositsView(PaymentListView):
    kind = PaymentKind.DEPOSIT

    @extend_schema(responses={200: serializers.PaymentOut(many=True)}, summary="The player's deposits, newest first")
    def get(self, request):
        return self.list(request)

    @extend_schema(request=serializers.PaymentIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: serializers.DepositOut, 400: ERROR, 403: ERROR, 409: ERROR},
                   summary="Start a deposit; then send the player to `redirect_url` (the PSP's page)")
    def post(self, request):
        return self.create(request, payments.deposit_request)


class WithdrawalsView(PaymentListView):
    kind = PaymentKind.WITHDRAWAL

    @extend_schema(responses={200: serializers.PaymentOut(many=True)}, summary="The player's withdrawals, newest first")
    def get(self, request):
        return self.list(request)

    @extend_schema(request=serializers.PaymentIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: serializers.PaymentOut, 400: ERROR, 409: ERROR},
                   summary="Ask for a withdrawal: the amount is held until staff decide")
    def post(self, request):
        return self.create(request, payments.withdrawal_request)


class PaymentDetailView(WalletView):
    kind: str

    def get(self, request, payment_id: int):
        payment = selectors.player_payments(request.user, self.kind).filter(pk=payment_id).first()
        if payment is None:
            raise PaymentNotFound()
        body = deposit_body(payment) if self.kind == PaymentKind.DEPOSIT else serializers.PaymentOut(payment).data
        return Response(body)


class DepositDetailView(PaymentDetailView):
    kind = PaymentKind.DEPOSIT

    @extend_schema(responses={200: serializers.DepositOut, 404: ERROR}, summary="One deposit")
    def get(self, request, payment_id: int):
        return super().get(request, payment_id)


class WithdrawalDetailView(PaymentDetailView):
    kind = PaymentKind.WITHDRAWAL

    @extend_schema(responses={200: serializers.PaymentOut, 404: ERROR}, summary="One withdrawal")
    def get(self, request, payment_id: int):
        return super().get(request, payment_id)


class WithdrawalCancelView(WalletView):
    @extend_schema(request=None, responses={200: serializers.PaymentOut, 404: ERROR, 409: ERROR},
                   summary="Cancel a withdrawal staff have not decided yet (idempotent)")
    def post(self, request, payment_id: int):
        payment = payments.withdrawal_cancel(player=request.user, payment_id=payment_id)
        return Response(serializers.PaymentOut(payment).data)


class TransactionsView(WalletView):
    @extend_schema(responses={200: serializers.TransactionOut(many=True)},
                   summary="Ledger history: each transaction with its entries on the player's accounts")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.player_transactions(request.user), request, view=self)
        return paginator.get_paginated_response(serializers.TransactionOut(page, many=True).data)


class PspWebhookView(APIView):
    """The PSP's webhook. Authenticated by its HMAC signature, not by a player: see wallet/psp.py."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []  # the signature covers the raw bytes: read request.body, never request.data

    @extend_schema(request=None, responses={200: serializers.WebhookOut, 400: ERROR, 401: ERROR, 409: ERROR},
                   summary="PSP webhook (HMAC-SHA256 signed: X-PSP-Timestamp, X-PSP-Signature)")
    def post(self, request):
        body = request.body
        psp.webhook_authenticate(body=body, timestamp=request.headers.get(psp.TIMESTAMP_HEADER),
                                 signature=request.headers.get(psp.SIGNATURE_HEADER))
        outcome = webhooks.psp_webhook_apply(event=psp.webhook_parse(body))
        payment = outcome.payment
        return Response({"status": "duplicate" if outcome.duplicate else "applied",
                         "payment_id": str(payment.pk) if payment else None,
                         "payment_status": payment.status if payment else None})
