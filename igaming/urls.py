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
    path("health", health.health, name="health"),
    path("", include("players.site_urls")),
]

handler404 = "igaming.views.not_found"
handler500 = "igaming.api_errors.json_server_error"
