"""Whole pages kept in the cache for everyone who is shown the same page (issue #8).

After the minutes are published, three hundred coordinators open the same meeting page; before a
survey closes, the bureau reloads the same grid. The costly parts of those pages were already
cached fragments (portal/fragments.py), but every request still ran the view's own queries
(the meeting, the VM) and rendered the page around the fragments: most of a page's time. Here a
view decorated with `@shared_page(...)` is built once per audience and kept whole:

- **The key** is the view, its full path (query string included), the language, the reader's
  roles (`navigation.roles_key`: their schools, districts, divisions, bureau and admin flags –
  everything the portal's access rules and the menu look at) and what `vary(request, **kwargs)`
  adds (the day, the minute). Two people share a page only if all of that is equal.
- **Kept only when it answered 200 with HTML**, built for a person with a role and no messages
  waiting. A refusal, a redirect or a page with a message is never kept, so a page served from
  the cache is one the same audience was allowed to see; the counters (below) cover the data the
  access rules read (a meeting unpublished, a VM moved to another school).
- **The person's own parts are filled in per request**: their name (`{% person_name %}` renders a
  mark while the page is built) and the CSRF token of every form (a fresh token for this reader,
  as Django's `{% csrf_token %}` would give).
- **Dropped by counters**, like fragments: `counters(request, **kwargs)` names the counters of
  everything the page shows (or None: not shared this time), and every fragment built inside must
  depend only on those – a page whose fragment used another counter is not kept, and an error is
  logged (the tests look). A page is kept at most KEEP_S, which bounds what no counter covers.

Never use it for a page that shows anything of one person beyond their name (a personal key, an
e-mail address, "my subscriptions"): such a page must not be shared.
"""

import hashlib
import logging
import re
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.utils.html import escape, format_html

from . import access, fragments
from .navigation import roles_key

log = logging.getLogger("portal.pages")
# Bounds what a counter does not cover (a series or a school renamed) to minutes.
KEEP_S = 10 * 60
# Not something an escaped value can contain ("<" is escaped); the secret makes it unguessable
# for the HTML that the minutes let through their sanitiser.
NAME_MARK = (
    f"<!--portal:person-name:{hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest()[:16]}-->"
)
# What Django's {% csrf_token %} renders: kept with a mark for the token, filled in per reader.
_CSRF_HTML = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
_CSRF_INPUT = re.compile(re.escape(_CSRF_HTML).replace(r"\{\}", '[^"]*'))
_CSRF_MARK = "<!--portal:csrf-input-->"
# A page is kept as bytes with marks, and filled in with bytes.replace(): no regular expression
# and no encoding over a 100 kB page on every request.
_NAME = NAME_MARK.encode()
_CSRF = _CSRF_MARK.encode()


def by_day(request, *args, **kwargs):
    """`vary` for pages that show the date or count days (ages, "today")."""
    return timezone.localdate().isoformat()


def by_minute(request, *args, **kwargs):
    """`vary` for pages that depend on the time of day (a survey closes at 17:00)."""
    return timezone.localtime().strftime("%Y-%m-%d %H:%M")


def building_shared_page(request):
    return getattr(request, "_portal_shared_page", False)


def shared_page(counters, *, vary=None, period=None, timeout=KEEP_S):
    """Keep the view's page whole for everyone with the same roles (see the module's text).
    `period(request, **kwargs)`, instead of a minute in `vary`, lets a page that turns every
    minute be built by one reader while the others get the last minute's (fragments.kept)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = getattr(request, "user", None)
            if (
                request.method != "GET"
                or user is None
                or not user.is_authenticated
                or not access.has_role(user)
                or len(get_messages(request))  # counts without marking them shown
            ):
                return view(request, *args, **kwargs)
            names = counters(request, *args, **kwargs)
            if names is None:  # the view says this page cannot be shared now
                return view(request, *args, **kwargs)
            names = tuple(names)
            parts = ("page", view.__module__, view.__qualname__, request.get_full_path(),
                     translation.get_language(), roles_key(user),
                     vary(request, *args, **kwargs) if vary else None)  # fmt: skip
            page, keep = fragments.kept(
                parts, names, period=period(request, *args, **kwargs) if period else None
            )
            if page is not None:
                return HttpResponse(_for_reader(page, request))
            request._portal_shared_page = True
            try:
                with fragments.recording_counters() as used:
                    response = view(request, *args, **kwargs)
            finally:
                request._portal_shared_page = False
            if not _keepable(response):  # still this reader's: their name where the mark is
                if not response.streaming and _NAME in response.content:
                    response.content = _with_name(response.content, user)
                return response
            page = _CSRF_INPUT.sub(_CSRF_MARK, response.content.decode()).encode()
            if used - set(names):
                log.error("pages: %s not kept: its fragments used counters %s it does not name",
                          view.__qualname__, sorted(used - set(names)))  # fmt: skip
            else:
                keep(page, timeout)
            response.content = _for_reader(page, request)
            return response

        return wrapper

    return decorate


def _keepable(response):
    return (
        response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies  # nothing of this response's own beyond the page
    )


def _for_reader(page, request):
    """The kept page (bytes) with this reader's name and CSRF token, as the template tags
    would have rendered them."""
    csrf_input = format_html(_CSRF_HTML, get_token(request))
    return _with_name(page, request.user).replace(_CSRF, csrf_input.encode())


def _with_name(page, user):
    return page.replace(_NAME, escape(user.display_name).encode())
