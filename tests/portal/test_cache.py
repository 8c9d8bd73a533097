"""The cache is django-redis with IGNORE_EXCEPTIONS (portal/settings.py): with Redis away it
answers "not cached", so that nothing that merely uses the cache (allauth's login rate limits
above all) fails with it."""

import pytest
from django.contrib.auth import get_user
from django.core.cache import caches
from django.urls import reverse

from tests import factories

# the production configuration (tests/portal/test_settings.py checks it is), with nothing
# listening at its address: every call fails to connect
DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = DEAD_REDIS
    return caches["default"]


def test_with_redis_down_people_still_log_in(client, coordinator, redis_down):
    response = client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert get_user(client) == coordinator
    assert client.get(reverse("home")).status_code == 200


def test_with_redis_down_the_login_lockout_still_holds(client, coordinator, redis_down):
    """allauth's rate limit is off while Redis is away; axes' lockout is in the database."""
    for _ in range(5):
        client.post(reverse("account_login"), {"login": coordinator.username, "password": "wrong"})
    response = client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 429


def test_with_redis_down_reads_miss_and_writes_do_nothing(redis_down):
    assert redis_down.get("k", "default") == "default"
    assert redis_down.get_many(["a", "b"]) == {}
    redis_down.set("k", 1)
    redis_down.set_many({"a": 1})
    redis_down.delete("k")
    redis_down.delete_many(["a"])
    assert not redis_down.has_key("k")


@pytest.mark.redis
def test_with_redis_up_it_keeps_what_it_is_given(settings, redis_url):
    settings.CACHES = {"default": {**DEAD_REDIS["default"], "LOCATION": redis_url}}
    cache = caches["default"]
    cache.delete_many(["k", "n"])
    assert cache.add("k", {"x": 1}, timeout=60) is True
    assert cache.add("k", {"x": 2}, timeout=60) is False
    assert cache.get("k") == {"x": 1}
    cache.set("n", 1, timeout=None)  # None: never expires, as in Django
    assert cache.incr("n") == 2
    assert cache.ttl("n") is None and 0 < cache.ttl("k") <= 60
