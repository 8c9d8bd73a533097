"""Browser: the audit log at a phone's width and a desk's – the count on one line, codes and
addresses never broken inside a word, the page's text in Chinese."""

import pytest

from portal.models import AuditEvent
from tests import factories
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser

# the distinct line tops of an element's text (pseudo-elements such as the stacked table's
# data-label are not part of its contents)
LINES = """el => {
  const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].filter(r => r.width > 0)
                  .map(r => Math.round(r.top))).size;
}"""

CODES = ["108-09-01", "2001:db8:85a3::8a2e:370:7334", "/signups/12/schools/014632/",
         "xindian-web-01"]  # fmt: skip


@pytest.fixture
def bureau_on_the_audit_log(page, transactional_db):
    clerk = factories.bureau_staff(username="clerk")
    AuditEvent.objects.bulk_create(
        AuditEvent(action="tracking.decided", actor=clerk, actor_label="clerk",
                   target=CODES[i % len(CODES)], ip="203.0.113.45",
                   detail={"decision": "merge", "meeting": i})
        for i in range(112)
    )  # fmt: skip
    browser_login(page, clerk.username)  # the 113th: this login
    page.wait_for_url("**/")
    return page


@pytest.mark.parametrize("width", [375, 1280])
def test_the_audit_log_keeps_its_count_and_codes_whole(bureau_on_the_audit_log, screenshot, width):
    page = bureau_on_the_audit_log
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/audit/")
    caption = page.locator("table.audit-log caption")
    assert caption.inner_text().strip() == "共 113 筆"
    assert caption.evaluate(LINES) == 1
    for code in CODES:
        cell = page.locator("td.audit-target", has_text=code).first
        assert cell.evaluate(LINES) == 1, f"{code} broken across lines at {width} px"
    address = page.locator("td[data-label='來源位址']").first
    assert address.evaluate(LINES) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    body = page.locator("table.audit-log").inner_text()
    assert "列管事項決議" in body and "決議：併案" in body and "tracking." not in body
    screenshot(page, "audit-log")
    assert serious_violations(page) == []
