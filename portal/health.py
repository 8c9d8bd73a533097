"""Checks that apps add to /healthz, registered in their AppConfig.ready() (the portal imports no
app). A check returns None when all is well, or a short text saying what keeps failing."""

from collections.abc import Callable

_checks: dict[str, Callable[[], str | None]] = {}


def register_check(name, check):
    """`name` is what /healthz lists under "failing" when `check()` returns a text."""
    _checks[name] = check


def failing_checks():
    """[(name, text)] of the registered checks that fail; a check that raises fails too."""
    failing = []
    for name, check in sorted(_checks.items()):
        try:
            detail = check()
        except Exception as exc:  # noqa: BLE001 – a check that cannot run says so
            detail = f"error: {type(exc).__name__}"
        if detail:
            failing.append((name, detail))
    return failing
