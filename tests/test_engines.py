from django.conf import settings
from django.core.cache import cache
from django.db import connection


def test_the_database_is_a_real_postgresql(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_the_cache_and_broker_are_a_real_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    cache.set("engine-check", "real", timeout=5)
    assert cache.get("engine-check") == "real"
    info = cache._cache.get_client().info("server")
    assert "redis_version" in info
