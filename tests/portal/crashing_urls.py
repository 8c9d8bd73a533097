"""The portal's URLs plus views that fail on purpose, for the error-page tests."""

from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.urls import path

from portal.urls import handler400
from portal.urls import urlpatterns as portal_urlpatterns


def crash(request):
    raise RuntimeError("a bug in a view")


def missing(request):
    raise Http404("No Meeting matches the given query.")


def suspicious(request):
    raise SuspiciousOperation("a forged header")


urlpatterns = [
    path("crash/", crash),
    path("missing/", missing),
    path("suspicious/", suspicious),
    *portal_urlpatterns,
]
__all__ = ["handler400", "urlpatterns"]
