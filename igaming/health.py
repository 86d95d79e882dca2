from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse


def health(request):
    """Liveness and readiness for the load balancer and docker-compose: database and Redis answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = "down"
    try:
        cache.set("health", "1", timeout=5)
        checks["redis"] = "ok" if cache.get("health") == "1" else "down"
    except Exception:  # noqa: BLE001
        checks["redis"] = "down"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
