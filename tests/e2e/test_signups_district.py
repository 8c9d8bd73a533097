"""In a real browser: a convener's survey page is a district view (each school's status and
已回覆 x/y, no link they may not follow), and the filing table fits a 375 px phone."""

import pytest

from portal.demo import load as load_portal_demo
from signups.demo import load as load_signups_demo
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser

TITLE = "新北市政府教育局辦理109年度寒假青少年休閒育樂活動開辦調查表"


def hrefs_answer(page):
    """Every link on the page answers without 403/404 for this person."""
    for href in set(
        page.eval_on_selector_all(
            "main a[href^='/']", "els => els.map(e => e.getAttribute('href'))"
        )
    ):
        status = page.request.get(href).status
        assert status < 400, (href, status)


@pytest.mark.django_db(transaction=True)
def test_the_convener_sees_the_districts_schools_and_how_many_answered(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    browser_login(page, "convener", "convener-demo-108")
    page.goto("/signups/")
    summary = page.locator(".district-answered").first.inner_text()
    assert "已回覆 1/" in summary  # the demo's 新店國小 has sent its table
    page.get_by_role("link", name="已回覆 1/", exact=False).first.click()
    page.get_by_role("heading", name=TITLE).wait_for()
    assert page.locator("#district-answered").inner_text().startswith("已回覆 1/")
    xindian = page.locator("tr[data-school='新店國小']").inner_text()
    assert "已送出" in xindian and "1 列" in xindian
    assert page.locator("tbody tr").count() > 1
    assert serious_violations(page) == []
    hrefs_answer(page)
    screenshot(page, "signups-district")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "signups-district")


@pytest.mark.django_db(transaction=True)
def test_the_filing_table_is_no_wider_than_the_header_at_375_px(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    page.set_viewport_size({"width": 375, "height": 800})
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.goto("/signups/")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name="開辦課程").wait_for()
    header = page.locator("header").first.bounding_box()
    table = page.locator(".offer-table").bounding_box()
    assert table["x"] + table["width"] <= header["x"] + header["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for name in ("course_name", "activity", "capacity"):
        box = page.locator(f"[name='rows-0-{name}']").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (name, box)
    screenshot(page, "signups-filing-375")
