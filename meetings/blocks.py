"""The home-page block: the latest published minutes and the next meeting."""

from portal import access

from . import selectors


def minutes_block(request):
    if not access.has_role(request.user):
        return None
    nxt = selectors.upcoming(request.user, limit=1)
    return (
        "meetings/home_block.html",
        {"latest": selectors.latest_published(), "next": nxt[0] if nxt else None},
    )
