"""Rendered page fragments kept in the cache until the data they show changes.

Some parts of a page take many queries to build and are the same for every reader of a kind: the
rendered minutes, a survey's grid, a VM page's charts. A fragment is kept under a key made of what
it shows (the caller's `parts`: a query string, whether the reader is staff, …), beside the values
of the named generation counters it was built from, and served only while those are current. A
change *moves* a counter (`changed(name)`), so nothing has to know which keys exist.

- Counters move at once (the writer's own later reads in the same transaction are fresh) and
  again after the transaction commits (a reader that rendered the old rows in between kept them
  with the values that the second move retires).
- A counter missing from the cache (evicted, flushed) is started afresh from the clock, so a
  fragment built before the eviction is never found again.
- `changed_on_save(name, *models)` moves a counter whenever one of those models is saved or
  deleted through the ORM; code that writes with `update()`/`bulk_*` calls `changed()` itself.

A fragment must be the same for everyone its `parts` describe: never put a CSRF token, a name or
anything time-dependent in one unless `parts` carries it. Access is checked by the view before a
fragment is asked for.

The cache is an optimisation: with Redis away (django-redis' IGNORE_EXCEPTIONS) every read misses,
so fragments are rendered from the database, and a counter that could not move leaves old
fragments for at most their timeout.
"""

import hashlib
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.safestring import mark_safe

KEEP_S = 60 * 60
_PREFIX = "portal:fragment"


def _counter(name):
    return f"{_PREFIX}:generation:{name}"


def changed(*names):
    """Drop every fragment built from these counters' data."""
    keys = [_counter(n) for n in names]

    def move():
        cache.set_many(dict.fromkeys(keys, time.time_ns()), None)

    move()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(move)


def generations(*names):
    """The counters' current values; a counter missing from the cache is started afresh."""
    found = cache.get_many([_counter(n) for n in names])
    values = []
    for name in names:
        value = found.get(_counter(name))
        if value is None:
            cache.add(_counter(name), time.time_ns(), None)
            value = cache.get(_counter(name))
        values.append(value)
    return tuple(values)


def fragment(parts, names, render, *, timeout=KEEP_S):
    """The HTML that `render()` returns, from the cache while `names`' counters stand still."""
    html = kept(parts, names, lambda: str(render()), timeout=timeout)
    return mark_safe(html)  # noqa: S308 – rendered (and escaped) by the template engine


def kept(parts, names, build, *, timeout=KEEP_S):
    """What `build()` returns (anything the cache can pickle), from the cache while `names`'
    counters stand still; `fragment` for values that are not HTML."""
    key = _key(parts, names)
    built_from = generations(*names)
    found = cache.get(key)
    if found is not None and found[0] == built_from:
        return found[1]
    value = build()
    cache.set(key, (built_from, value), timeout)
    return value


def _key(parts, names):
    described = repr((tuple(parts), tuple(names)))
    return f"{_PREFIX}:v3:{hashlib.sha256(described.encode()).hexdigest()}"


def changed_on_save(name, *models):
    """Move `name` whenever one of `models` is saved or deleted through the ORM."""

    def receiver(sender, **kwargs):
        changed(name)

    for model in models:
        label = model._meta.label
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{name}:{label}:s")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{name}:{label}:d")
