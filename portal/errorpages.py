"""The portal's own Chinese error pages in every mode, DEBUG included.

With DEBUG on, Django answers a missing page, a crash or a bad request with its English technical
pages (the 403 page is the portal's in every mode already). The demo (`make run`) runs with DEBUG
on, and its users should see what production users see, so this middleware answers those cases
with the same handlers production uses (templates/404.html, 400 and 500). The traceback of a
crash still goes to the console, through the `django.request` logger as Django would log it.
With DEBUG off it does nothing: Django's own handlers already serve these templates.
"""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import Resolver404
from django.views import defaults

log = logging.getLogger("django.request")


class ErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # an address no URL pattern matches never reaches a view (nor process_exception);
        # CommonMiddleware, inside this one, has already turned it into a redirect if adding a
        # slash finds a page
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
        ):
            return defaults.page_not_found(request, Resolver404())
        return response

    def process_exception(self, request, exception):
        if not settings.DEBUG or isinstance(exception, PermissionDenied):
            return None
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            from .views import bad_request

            if isinstance(exception, SuspiciousOperation):  # logged where Django logs it
                name = f"django.security.{type(exception).__name__}"
                logging.getLogger(name).error(str(exception), extra={"status_code": 400})

            return bad_request(request, exception)
        log.error("Internal Server Error: %s", request.path, exc_info=exception,
                  extra={"status_code": 500, "request": request})  # fmt: skip
        return defaults.server_error(request)
