"""Rendered page fragments kept in Django's cache, dropped by generation counters (issue #8).

Most of a page's time here is building and rendering what changes a few times a day (the
minutes, the tracked-item table, a survey's grid) for many readers a minute. A fragment is
cached under a key made of what it shows (the caller's `parts`: a query string, whether the
reader is staff, …), together with the values of the named generation counters it was built
from, and served only while those are current. A change *moves* a counter (`changed(name)`), so
every fragment built from the old data is never served again and is rebuilt in place; nothing
has to know which keys exist. Counters and fragments are read in one cache round trip.

- Counters move at once (the writer's own later reads, in the same transaction, are fresh) and
  again after the transaction commits (a reader that rendered the old rows in between stored
  them with the values that the second move retires).
- A counter missing from the cache (evicted, or the cache was flushed) is started afresh from
  the clock, so a fragment rendered before the eviction is never found again.
- `changed_on_save(name, *models)` moves a counter whenever one of those models is saved or
  deleted through the ORM; services that write with `update()`/`bulk_*` call `changed()`
  themselves.

A fragment must be the same for everyone its `parts` describe: never put a CSRF token, a user's
name or anything time-dependent in one unless `parts` carries it.

The cache is an optimisation, never a dependency: when it fails (Redis down), pages are rendered
from the database and changes are saved; a counter that could not be moved is logged, and every
fragment expires within its timeout anyway (KEEP_S unless the caller gives one), which bounds
how long such a miss can show old data.
"""

import contextvars
import hashlib
import logging
import time
from contextlib import contextmanager

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils.safestring import mark_safe

from .cache import now_and_at_commit

KEEP_S = 60 * 60
STALE_PERIODS = 2  # kept(period=…): how many periods old a build may be served while one is built
BUILD_LOCK_S = 30  # …and how long one reader's claim to build it lasts if they never keep it
_PREFIX = "portal:fragment"
log = logging.getLogger("portal.fragments")
_recording = contextvars.ContextVar("portal_fragment_counters", default=None)


def _counter(name):
    return f"{_PREFIX}:generation:{name}"


def changed(*names):
    """Drop every fragment built from these counters' data."""
    keys = [_counter(n) for n in names]

    def move():
        try:
            cache.set_many(dict.fromkeys(keys, time.time_ns()), None)
        except Exception:  # noqa: BLE001 – the change itself must not fail for the cache
            log.error("fragments: could not move %s; cached pages may be old for up to %s s",
                      names, KEEP_S, exc_info=True)  # fmt: skip

    now_and_at_commit(move)


def generations(*names):
    keys = [_counter(n) for n in names]
    return _current(names, cache.get_many(keys))


def _read(names, keys):
    """The entries under `keys` and the counters' current values ({name: value}), in one round
    trip."""
    found = cache.get_many([_counter(n) for n in names] + list(keys))
    return found, dict(zip(names, _current(names, found), strict=True))


def _current(names, found):
    """The counters' values from a cache read; a counter missing from it is started afresh."""
    values = []
    for name in names:
        key = _counter(name)
        if key not in found:
            cache.add(key, time.time_ns(), None)
            found[key] = cache.get(key)
        values.append(found[key])
    return tuple(values)


def kept(parts, names, *, period=None):
    """`fragment()` in two steps, for a caller that may decide not to keep what it builds (a page
    that answered 403): (the kept HTML or None, keep), where keep(html, timeout) stores a build
    with the counters' values read here, so a build that a change overtook is never served.

    With `period` (a number that grows with time: the minute), a build of an earlier period is
    still served – stale-while-revalidate – to everyone but the one reader who wins the lock to
    build this period's, so a page that turns every minute is built once per minute while the
    others are served at once. Only time makes a build stale this way: a build whose counters
    moved is never served, and one more than STALE_PERIODS old is not either."""
    noop = lambda html, timeout=KEEP_S: None  # noqa: E731
    try:
        key = _key(parts, names)
        found, current = _read(names, [key])
        built_from = tuple(current[n] for n in names)
        entry = found.get(key)
        if entry is not None and entry[0] == built_from:
            entry_period = entry[2] if len(entry) > 2 else None
            if period is None or entry_period == period:
                return entry[1], noop
            if (
                entry_period is not None
                and 0 < period - entry_period <= STALE_PERIODS
                and not cache.add(f"{key}:building:{period}", 1, BUILD_LOCK_S)
            ):
                return entry[1], noop  # another reader is building this period's
    except Exception:  # noqa: BLE001 – no cache: build from the database, keep nothing
        log.warning("fragments: the cache is unavailable; building %s", parts[0], exc_info=True)
        return None, noop

    def keep(html, timeout=KEEP_S):
        try:
            cache.set(key, (built_from, html, period), timeout)
        except Exception:  # noqa: BLE001
            log.warning("fragments: the cache is unavailable; %s not kept", parts[0], exc_info=True)

    return None, keep


@contextmanager
def recording_counters():
    """The names of the counters every fragment built inside the block depended on (a set that
    fills as they are built): a page kept whole must depend on at least those."""
    names = set()
    token = _recording.set(names)
    try:
        yield names
    finally:
        _recording.reset(token)


def fragment(parts, names, render, *, timeout=KEEP_S):
    """The HTML that `render()` returns, from the cache while `names`' counters stand still."""
    return fragments([(parts, names, render)], timeout=timeout)[0]


def fragments(specs, *, timeout=KEEP_S):
    """`fragment()` for several (parts, names, render) at once, in one cache round trip however
    many there are (the home page's blocks): the counters and the fragments are read together.
    A fragment is kept under a key made of what it shows, with the counters' values it was built
    from beside it, and is served only while those are the current ones; a newer build replaces
    it in place, so old generations leave no keys behind."""
    specs = list(specs)
    recording = _recording.get()
    if recording is not None:
        recording.update(n for _, spec_names, _ in specs for n in spec_names)
    try:
        names = sorted({n for _, spec_names, _ in specs for n in spec_names})
        keys = [_key(parts, spec_names) for parts, spec_names, _ in specs]
        found, current = _read(names, keys)
    except Exception:  # noqa: BLE001 – no cache: render from the database
        log.warning("fragments: the cache is unavailable; rendering %s",
                    [parts[0] for parts, _, _ in specs], exc_info=True)  # fmt: skip
        return [mark_safe(str(render())) for _, _, render in specs]  # noqa: S308 – see below
    out, missing = [], {}
    for (_, spec_names, render), key in zip(specs, keys, strict=True):
        built_from = tuple(current[n] for n in spec_names)
        kept = found.get(key)
        if kept is not None and kept[0] == built_from:
            html = kept[1]
        else:
            html = str(render())
            missing[key] = (built_from, html)
        out.append(mark_safe(html))  # noqa: S308 – rendered (and escaped) by the template engine
    if missing:
        try:
            cache.set_many(missing, timeout)
        except Exception:  # noqa: BLE001
            log.warning("fragments: the cache is unavailable; %d not kept", len(missing),
                        exc_info=True)  # fmt: skip
    return out


def _key(parts, names):
    described = repr((tuple(parts), tuple(names)))
    return f"{_PREFIX}:v2:{hashlib.sha256(described.encode()).hexdigest()}"


def changed_on_save(name, *models):
    """Move `name` whenever one of `models` is saved or deleted through the ORM."""

    def receiver(sender, **kwargs):
        changed(name)

    for model in models:
        label = f"{model._meta.label}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{name}:{label}:s")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{name}:{label}:d")
