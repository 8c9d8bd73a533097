"""A URLconf for tests/portal/test_machine_api.py: one marked view and one plain view under the
machine API's prefix, each telling what the request carried when it reached it."""

from django.http import JsonResponse
from django.urls import path

from portal.machine_api import machine_api


def _what_it_saw(request, **kwargs):
    return JsonResponse(
        {
            "user": hasattr(request, "user"),
            "session": hasattr(request, "session"),
            "language": getattr(request, "LANGUAGE_CODE", None),
            "view": request.resolver_match.url_name,
        }
    )


@machine_api
def _fails(request):
    raise RuntimeError("a bug in a marked view")


urlpatterns = [
    path("api/fails", _fails, name="fails"),
    path("api/probe/<int:n>", machine_api(_what_it_saw), name="marked"),
    path("api/plain", _what_it_saw, name="plain"),
]
