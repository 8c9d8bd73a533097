"""Token-authenticated API views are served ahead of the site's browser middleware
(portal/machine_api.py); everything else still goes through all of it."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = "tests.portal.machine_api_urls"


def test_a_marked_view_gets_no_session_user_or_language(client, probe_urls):
    response = client.get("/api/probe/7", HTTP_ACCEPT_LANGUAGE="zh-TW")
    assert response.json() == {"user": False, "session": False, "language": None, "view": "marked"}
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs first
    assert not response.has_header("Content-Language")


def test_a_plain_view_under_the_prefix_goes_through_the_whole_stack(client, probe_urls):
    response = client.get("/api/plain", HTTP_ACCEPT_LANGUAGE="zh-TW")
    assert response.json() == {
        "user": True,
        "session": True,
        "language": "zh-hant",
        "view": "plain",
    }
    assert "script-src 'self'" in response["Content-Security-Policy"]  # the site's own policy
    assert response["Content-Language"] == "zh-hant"


def test_an_unknown_api_path_gets_the_sites_404(client):
    # (under /api/vmquota/ a marked catch-all answers a JSON 404 instead)
    response = client.get("/api/nothing-here", HTTP_ACCEPT_LANGUAGE="zh-TW")
    assert response.status_code == 404
    assert response["Content-Language"] == "zh-hant"


def test_an_error_in_a_marked_view_is_djangos_500_with_the_api_headers(client, probe_urls, caplog):
    client.raise_request_exception = False
    response = client.get("/api/fails")
    assert response.status_code == 500
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["Cache-Control"] == "no-store"
    assert "a bug in a marked view" in caplog.text  # logged by django.request, as before
