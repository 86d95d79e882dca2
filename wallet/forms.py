"""Cashier forms. Each carries an idempotency key minted when the page renders, so a double
submit or a browser resend books once."""

import uuid

from django import forms


class CashierForm(forms.Form):
    amount = forms.CharField(max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                                          "autocomplete": "off"}))
    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"idempotency_key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)
