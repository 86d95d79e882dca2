from django.urls import path

from wallet import api

urlpatterns = [path("webhook", api.PspWebhookView.as_view(), name="psp-webhook")]
