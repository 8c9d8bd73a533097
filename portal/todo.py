"""本週待辦: what the reader has to do or look at this week, at the top of their home page.

Each app fills it in its AppConfig.ready() with `register_todo(fn, order=n)`: `fn(request)`
returns a list of `Todo` (empty when there is nothing) for the reader's roles, and links only to
pages the reader may open (ask portal.access). The portal only merges, orders and shows them.
With `counters` (portal/fragments.py) an app's list is kept in the cache per `vary(request)`
until a counter moves, as home blocks are.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from . import fragments


@dataclass(frozen=True)
class Todo:
    text: str  # what to do or look at, in the reader's words: "填報 108-09-02 的辦理情形"
    url: str = ""  # where to do it; a page the reader may open
    detail: str = ""  # one line more: "還有 3 天（12/31 17:00 截止）", "退回原因：…"
    label: str = ""  # a short badge: 截止, 新辦理情形, 事件, 會議
    tone: str = "info"  # the badge's colour: ok, warn, bad, info, muted
    urgency: int = 50  # lower first: what is late or due soon before what is only news


@dataclass(frozen=True)
class _Source:
    fn: Callable
    order: int
    counters: tuple = ()
    vary: Callable | None = None


_sources: list[_Source] = []


def register_todo(fn, *, order=50, counters=(), vary=None):
    if fn not in [s.fn for s in _sources]:
        _sources.append(_Source(fn, order, tuple(counters), vary))


def vary_by_person_and_day(request):
    """For lists that are the reader's own (what they follow), built again each day."""
    return (request.user.pk, timezone.localdate().isoformat())


def todos_for(request):
    """Every app's Todo for this reader, most urgent first (ties: in the apps' order)."""
    found = []
    for source in sorted(_sources, key=lambda s: s.order):
        if source.counters:
            parts = ("todo", source.fn.__module__, source.fn.__qualname__, source.vary(request))
            found.extend(
                fragments.kept(parts, source.counters, lambda s=source: list(s.fn(request) or ()))
            )
        else:
            found.extend(source.fn(request) or ())
    return sorted(found, key=lambda t: t.urgency)
