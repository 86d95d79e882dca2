from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from igaming import health

admin.site.site_header = "iGaming back-office"
admin.site.site_title = "iGaming back-office"
admin.site.index_title = "Operations"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/players/", include("players.urls")),
    path("api/v1/wallet/", include("wallet.urls")),
    path("api/v1/psp/", include("wallet.webhook_urls")),
    path("api/v1/games/", include("games.urls")),
    path("wallet-api/v1/", include("games.seamless.urls")),
    path("health", health.health, name="health"),
    path("fasttrack/", include("crm.operator_api.urls")),
    path("operator/", include("crm.operator_api.guide_urls")),
    path("", include("wallet.site_urls")),
    path("", include("games.site_urls")),
    path("", include("players.site_urls")),
]

handler404 = "igaming.views.not_found"
handler500 = "igaming.api_errors.json_server_error"
