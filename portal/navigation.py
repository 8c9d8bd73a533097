"""Navigation and home-page blocks, registered by each app in its AppConfig.ready().

The portal decides who sees an entry through `portal.access`; templates only loop over the result.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from . import access, fragments


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    visible: Callable = access.has_role
    order: int = 50


_nav: list[NavItem] = []
_home_blocks: list["HomeBlock"] = []


@dataclass(frozen=True)
class HomeBlock:
    fn: Callable
    order: int = 50
    counters: tuple = ()
    vary: Callable | None = None


def register_nav(label, url_name, *, visible=access.has_role, order=50):
    if all(item.url_name != url_name for item in _nav):
        _nav.append(NavItem(label, url_name, visible, order))


def nav_for(user, current_path=""):
    items = []
    for item in sorted(_nav, key=lambda i: i.order):
        if not item.visible(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # an app's page not mounted in this URLconf
            continue
        current = url != "/" and current_path.startswith(url) or url == current_path
        items.append({"label": item.label, "url": url, "current": current})
    return items


def register_home_block(fn, *, order=50, counters=(), vary=None):
    """fn(request) returns None (nothing to show) or (template_name, context); the template gets
    the context as `block` and no request (it must not need one).

    With `counters` (portal/fragments.py) the block's HTML is cached: `vary(request)` returns
    everything about the reader and the moment that the block depends on (staff or not, their
    schools, today), and the block is built again only when that or a counter changes."""
    if fn not in [b.fn for b in _home_blocks]:
        _home_blocks.append(HomeBlock(fn, order, tuple(counters), vary))


def roles_key(user):
    roles = access.roles_of(user)
    return (sorted(roles.coordinator_school_ids), sorted(roles.convener_district_ids),
            sorted(roles.bureau_division_ids), roles.is_bureau, roles.is_admin)  # fmt: skip


def vary_by_roles_and_day(request):
    """For blocks that show the same to everyone with the same roles on the same day."""
    return (roles_key(request.user), timezone.localdate().isoformat())


def vary_by_roles_and_minute(request):
    """For blocks that depend on the time of day too (a survey closes at 17:00)."""
    return (roles_key(request.user), timezone.localtime().strftime("%Y-%m-%d %H:%M"))


def _render_block(block, request):
    result = block.fn(request)
    if result is None:
        return ""
    template, context = result
    return render_to_string(template, {"block": context})


def home_blocks(request):
    """The HTML of each block that has something to show, in order; a block with counters comes
    from the cache (portal/fragments.py) while they stand still."""
    blocks = []
    for block in sorted(_home_blocks, key=lambda b: b.order):
        if block.counters:
            parts = ("home", block.fn.__module__, block.fn.__qualname__, block.vary(request))
            piece = fragments.fragment(
                parts, block.counters, lambda block=block: _render_block(block, request)
            )
        else:
            piece = _render_block(block, request)
        if piece.strip():
            blocks.append(piece)
    return blocks
