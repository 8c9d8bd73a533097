"""On-commit callbacks in tests: the work a request queued, without the cache's own bookkeeping
(portal/fragments.py moves its counters again once a transaction commits, and portal/sessions.py
drops kept session reads again)."""

CACHE_BOOKKEEPING = {"portal.fragments", "portal.sessions"}


def queued_work(callbacks):
    return [c for c in callbacks if c.__module__ not in CACHE_BOOKKEEPING]
