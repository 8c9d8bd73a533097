"""A Chinese 404, 400, 403 and 500 page in every mode: with DEBUG on (the demo) as well as off,
where Django would otherwise show its English technical pages."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PAGES = {
    "/no-such-page/": (404, "找不到這一頁"),
    "/missing/": (404, "找不到這一頁"),  # a view's own Http404
    "/suspicious/": (400, ""),
    "/crash/": (500, "系統發生錯誤"),
    "/audit/": (403, "您沒有權限開啟這一頁"),
}


@pytest.fixture
def browsing(coordinator):
    client = Client(raise_request_exception=False, HTTP_ACCEPT="text/html")
    client.force_login(coordinator)
    return client


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
@pytest.mark.parametrize("url", list(PAGES))
def test_an_error_is_answered_with_the_portals_chinese_page(browsing, url, debug, caplog):
    status, heading = PAGES[url]
    with override_settings(DEBUG=debug, ROOT_URLCONF="tests.portal.crashing_urls"):
        response = browsing.get(url)
    html = response.content.decode()
    assert response.status_code == status
    assert '<html lang="zh-Hant">' in html and heading in html
    for english in ("Page not found", "Traceback", "Request Method", "Bad Request", "DEBUG = True"):
        assert english not in html


@override_settings(DEBUG=True, ROOT_URLCONF="tests.portal.crashing_urls")
def test_with_debug_on_a_crash_still_goes_to_the_log_with_its_traceback(browsing, caplog):
    browsing.get("/crash/")
    crash = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert crash and "a bug in a view" in str(crash[0].exc_info[1])


@override_settings(DEBUG=True)
def test_with_debug_on_a_missing_slash_still_redirects(browsing):
    response = browsing.get("/audit")
    assert response.status_code == 301 and response["Location"] == "/audit/"


@override_settings(DEBUG=True)
def test_with_debug_on_the_collectors_api_still_answers_json(client):
    response = client.get("/api/vmquota/no-such-thing")
    assert response.status_code == 404 and "error" in response.json()
