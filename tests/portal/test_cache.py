"""The portal's cache backend (portal/cache.py): Django's RedisCache, except that with Redis away
it answers "not cached" – so that nothing that merely uses the cache (allauth's login rate
limits above all) fails with it."""

import logging

import pytest
from django.contrib.auth import get_user
from django.core.cache import caches
from django.urls import reverse

from portal import cache as portal_cache
from tests import factories
from tests.portal.test_fragments import DEAD_CACHE

TOLERANT = "portal.cache.TolerantRedisCache"
# the fragments tests' dead Redis, behind the portal's backend
DEAD_REDIS = {"default": {**DEAD_CACHE["default"], "BACKEND": TOLERANT}}


@pytest.fixture
def redis_down(settings, monkeypatch):
    monkeypatch.setattr(portal_cache, "_last_warning", 0.0)
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


def test_with_redis_down_reads_miss_and_writes_do_nothing(redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="portal.cache")
    assert redis_down.get("k", "default") == "default"
    assert redis_down.get_many(["a", "b"]) == {}
    assert redis_down.add("k", 1) is True
    redis_down.set("k", 1)
    redis_down.set_many({"a": 1})
    redis_down.delete("k")
    redis_down.delete_many(["a"])
    assert not redis_down.has_key("k")
    with pytest.raises(Exception):  # noqa: B017,PT011 – a counter has no safe default
        redis_down.incr("k")
    warnings = [r for r in caplog.records if r.name == "portal.cache"]
    assert len(warnings) == 1, "one warning a minute, not one per call"


@pytest.mark.redis
def test_with_redis_up_it_is_djangos_redis_cache(settings, redis_url):
    settings.CACHES = {"default": {"BACKEND": TOLERANT, "LOCATION": redis_url}}
    cache = caches["default"]
    assert cache.add("k", {"x": 1}, timeout=60) is True
    assert cache.add("k", {"x": 2}, timeout=60) is False
    assert cache.get("k") == {"x": 1}
    cache.set("n", 1, timeout=None)  # None: never expires, as in Django
    assert cache.incr("n") == 2
    client = cache._cache.get_client(cache.make_and_validate_key("n"))
    assert client.ttl(cache.make_and_validate_key("n")) == -1
    assert client.ttl(cache.make_and_validate_key("k")) > 0


@pytest.mark.redis
def test_one_redis_client_per_pool_not_one_per_command(settings, redis_url):
    """Django's client built a redis.Redis (and its callback table) for every command."""
    settings.CACHES = {"default": {"BACKEND": TOLERANT, "LOCATION": redis_url}}
    cache = caches["default"]
    first = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is first
    cache.set("k", 1, timeout=60)
    assert cache.get("k") == 1
    assert cache._cache.get_client("c") is first
