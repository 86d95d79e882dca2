from django.views.defaults import page_not_found

from igaming.api_errors import json_not_found

JSON_PREFIXES = ("/api/", "/fasttrack/", "/operator/", "/wallet-api/")


def not_found(request, exception=None):
    if request.path.startswith(JSON_PREFIXES):
        return json_not_found(request, exception)
    return page_not_found(request, exception)
