"""Browser: the design system on short and edge pages – the footer at the bottom, the search
button level with its input, a favicon (no failed request on any page)."""

import pytest

from tests import factories
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def coordinator_in(page, transactional_db):
    school = factories.SchoolFactory(name="新店國小", code="014632")
    user = factories.coordinator_of(school, username="xindian")
    failed = []
    # a request the browser itself gave up when the page moved on (ERR_ABORTED) is no failure
    page.on("requestfailed", lambda request: "ERR_ABORTED" not in (request.failure or "")
            and failed.append(request.url))  # fmt: skip
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    browser_login(page, user.username)
    page.wait_for_url("**/")
    return failed


@pytest.mark.parametrize("width", [1280, 375])
def test_the_footer_stays_at_the_bottom_of_a_short_page(page, coordinator_in, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/tracking/?q=沒有這種案由")
    box = page.locator("footer.site-footer").bounding_box()
    assert box["y"] + box["height"] >= 899  # no empty band under it
    screenshot(page, "short-page")
    assert serious_violations(page) == []


def test_the_search_button_is_level_with_its_input(page, coordinator_in):
    page.goto("/meetings/")
    field = page.get_by_label("搜尋會議紀錄").bounding_box()
    button = page.get_by_role("button", name="搜尋").bounding_box()
    assert abs(field["y"] - button["y"]) <= 2 and abs(field["height"] - button["height"]) <= 2


def test_every_page_has_a_favicon_and_no_failed_request(page, coordinator_in):
    page.goto("/meetings/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(icon).ok
    page.wait_for_load_state("networkidle")
    assert coordinator_in == []
