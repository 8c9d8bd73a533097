"""Django's Redis cache, made to answer "nothing cached" instead of raising while Redis is away.

Everything the portal keeps in the cache can be lost: rendered fragments (portal/fragments.py),
the evaluation nudge and the collector rate window (vmquota), and allauth's login rate limits.
Django's RedisCache raises on a refused connection, and allauth's rate limit does not catch it:
with Redis down nobody could log in (found in issue #8's review). Here a read misses, an add
succeeds, a write or delete does nothing, and one warning a minute says so. Login stays protected
by django-axes, whose lockout lives in the database. `incr` still raises: a counter has no safe
default, and its callers (vmquota's rate window) already decide what to do.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
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


class TolerantRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE:
            _unavailable("get")
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE:
            _unavailable("get_many")
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNAVAILABLE:
            _unavailable("has_key")
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE:
            _unavailable("add")
            return True  # as if this caller were first: a lock taken, a key newly made

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except UNAVAILABLE:
            _unavailable("set")

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE:
            _unavailable("set_many")
            return []

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNAVAILABLE:
            _unavailable("touch")
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNAVAILABLE:
            _unavailable("delete")
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except UNAVAILABLE:
            _unavailable("delete_many")
