"""Navigation and home-page blocks, registered by each app in its AppConfig.ready().

The portal decides who sees an entry through `portal.access`; templates only loop over the result.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from . import access


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    visible: Callable = access.has_role
    order: int = 50


_nav: list[NavItem] = []
_home_blocks: list[tuple[int, Callable]] = []


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
        except NoReverseMatch:
            continue
        current = url != "/" and current_path.startswith(url) or url == current_path
        items.append({"label": item.label, "url": url, "current": current})
    return items


def register_home_block(fn, *, order=50):
    """fn(request) returns None (nothing to show) or (template_name, context)."""
    if fn not in [f for _, f in _home_blocks]:
        _home_blocks.append((order, fn))


def home_blocks(request):
    blocks = []
    for _, fn in sorted(_home_blocks, key=lambda pair: pair[0]):
        block = fn(request)
        if block is not None:
            blocks.append({"template": block[0], "context": block[1]})
    return blocks
