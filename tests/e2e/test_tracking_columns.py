"""Browser: the tracked-items tables at a phone's width and a desk's – the 案號 cell (the minutes'
row number with the portal's case number beside it) on one line, 決議 never one character a
line, on the list, the meeting's tables and the minutes."""

import pytest

from tests import factories
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations
from tests.e2e.test_tracking import seed  # noqa: F401 – the seed meeting and its items

pytestmark = pytest.mark.browser

LINES = """el => {
  const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].filter(r => r.width > 0)
                  .map(r => Math.round(r.top))).size;
}"""


@pytest.fixture
def bureau_in(page, seed):  # noqa: F811
    clerk = factories.bureau_staff(username="clerk")
    browser_login(page, clerk.username)
    page.wait_for_url("**/")
    return page, seed


def _lines(locator):
    return [cell.evaluate(LINES) for cell in locator.all()]


@pytest.mark.parametrize("width", [375, 1280])
def test_case_numbers_and_decisions_keep_their_words_whole(bureau_in, screenshot, width):
    page, meeting = bureau_in
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(f"/tracking/meetings/{meeting.pk}/")
    cells = page.locator("td.case-cell")
    assert cells.count() == 4 and set(_lines(cells)) == {1}
    assert page.locator("td.case-cell", has_text="108-09-R01").inner_text().startswith("1.")
    resolutions = page.locator("td.resolution-cell", has_text="本案解列。")
    assert resolutions.count() == 2 and set(_lines(resolutions)) == {1}  # 「本案解列。」 whole
    screenshot(page, "tracking-meeting-tables")
    assert serious_violations(page) == []

    page.goto("/tracking/?state=")
    for link in page.locator("td.case-cell a.case-no").all():
        assert link.evaluate(LINES) == 1
    assert page.locator("td.case-cell", has_text="108-09-01").locator(".minutes-ref").count() == 1
    screenshot(page, "tracking-list-all")

    page.goto(meeting.get_absolute_url())
    minutes_cells = page.locator(".minutes table.minutes-table td:first-child")
    assert minutes_cells.count() == 4 and set(_lines(minutes_cells)) == {1}
    assert "1.（108-09-R01）" in minutes_cells.first.inner_text()
    decisions = page.locator(".minutes table.minutes-table td:nth-child(5)")
    assert set(_lines(decisions)) == {1}
    assert page.evaluate("document.documentElement.scrollWidth") <= width
