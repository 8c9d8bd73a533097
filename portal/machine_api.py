"""Views that machines call with a token, served ahead of the site's browser middleware.

A collector posting samples carries no cookie, reads no session, wants no language, no CSRF
check, no login page, no lockout and no page policy: those layers (sessions, locale, CSRF,
authentication, messages, allauth, the session lifetime, CSP, axes) only cost it CPU, on every
batch: 14–19 % of the gunicorn workers' CPU for a 100-sample batch under load
(tests/bench/compare_ingest.py, docs/performance.md). So a view marked `@machine_api` is
called straight from `MachineAPIMiddleware`, which sits right after Django's SecurityMiddleware
(nosniff, the referrer policy and, behind TLS, HSTS still apply) and adds the headers a JSON
answer needs. Any other path, and any path under
the prefix that does not resolve to a marked view, goes through the whole stack as before.

A marked view must authenticate its caller itself and must not use `request.user`,
`request.session` or messages (they are not there).
"""

from functools import wraps

from django.core.handlers.exception import response_for_exception
from django.urls import Resolver404, resolve

PREFIX = "/api/"
# What a JSON answer for a machine needs: never framed, never rendered as a page, never cached.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def machine_api(view):
    """Mark a token-authenticated view to be served without the site's browser middleware."""

    @wraps(view)
    def marked(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    marked.machine_api = True
    return marked


class MachineAPIMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(PREFIX):
            try:
                match = resolve(path)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "machine_api", False):
                request.resolver_match = match
                try:
                    response = match.func(request, *match.args, **match.kwargs)
                except Exception as exc:  # noqa: BLE001 – Django's own answer (404, 403, 500…)
                    response = response_for_exception(request, exc)  # logs it, as Django would
                for name, value in HEADERS.items():
                    response.headers.setdefault(name, value)
                return response
        return self.get_response(request)
