"""The integration guide's paths (/operator/...), kept as aliases of the published contract's.

They answer exactly what /fasttrack/ answers: where the guide and Fast Track's published schemas
differ, the schemas win.
"""

from django.urls import path, re_path

from crm.operator_api import views

app_name = "operator-guide"

urlpatterns = [
    path("user-details/<str:user_id>", views.UserDetailsView.as_view(), name="user-details"),
    path("player-blocks/<str:user_id>", views.UserBlocksView.as_view(), name="player-blocks"),
    path("consents/<str:user_id>", views.UserConsentsView.as_view(), name="consents"),
    re_path(r"", views.not_found),
]
