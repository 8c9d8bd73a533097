"""Django's Redis cache, made to answer "nothing cached" instead of raising while Redis is away.

Everything the portal keeps in the cache can be lost: rendered fragments (portal/fragments.py),
the evaluation nudge and the collector rate window (vmquota), and allauth's login rate limits.
Django's RedisCache raises on a refused connection, and allauth's rate limit does not catch it:
with Redis down nobody could log in (found in issue #8's review). Here a read misses, an add
succeeds, a write or delete does nothing, and one warning a minute says so. Login stays protected
by django-axes, whose lockout lives in the database. `incr` still raises: a counter has no safe
default, and its callers (vmquota's rate window) already decide what to do.

Django's client also makes a new `redis.Redis` for every command, which builds its table of ~170
response callbacks each time: 0.1–0.3 ms a cache call on this machine, more than the round trip
to Redis. `ReusedClientRedisCacheClient` keeps one per connection pool (a `redis.Redis` is
thread-safe; it takes a connection from the pool for each command).
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connection, transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("portal.cache")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_S = 60
_last_warning = 0.0


def _unavailable(operation):
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY_S:
        _last_warning = now
        log.warning("Redis cache unavailable (%s): serving without the cache", operation)


def _tolerant(operation, fallback):
    """RedisCache's `operation`, answering fallback() while Redis is away."""

    def method(self, *args, **kwargs):
        try:
            return getattr(RedisCache, operation)(self, *args, **kwargs)
        except UNAVAILABLE:
            _unavailable(operation)
            return fallback()

    method.__name__ = operation
    return method


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id(pool) → client; the pools live as long as this object

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class TolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE:
            _unavailable("get")
            return default

    get_many = _tolerant("get_many", dict)
    has_key = _tolerant("has_key", lambda: False)
    add = _tolerant("add", lambda: True)  # as if this caller were first: a lock taken, a key made
    set = _tolerant("set", lambda: None)
    set_many = _tolerant("set_many", list)
    touch = _tolerant("touch", lambda: False)
    delete = _tolerant("delete", lambda: False)
    delete_many = _tolerant("delete_many", lambda: None)


def now_and_at_commit(drop):
    """Run `drop` (the invalidation of something kept in the cache) now and, inside a
    transaction, again once it commits: a reader in between may have kept what the database held
    before the change. Outside a transaction the change is already committed: once is enough."""
    drop()
    if connection.in_atomic_block:
        transaction.on_commit(drop)
