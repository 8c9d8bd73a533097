"""Browser: each demo role can do its week on the demo data (`manage.py load_demo`)."""

import re

import pytest
from django.core.management import call_command

from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations
from tracking.models import StatusUpdate

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_demo_bureau_clerk_files_a_status_on_an_open_item_of_its_division(
    page, demo, screenshot
):
    browser_login(page, "bureau", "bureau-demo-108")
    page.wait_for_url("**/")
    page.goto("/tracking/")
    row = page.locator("tr", has_text="108-09-02")
    assert "系統平臺組" in row.inner_text()  # which division, at once in the list
    row.get_by_role("link", name="108-09-02").click()
    facts = page.locator("dl.facts").inner_text()
    assert "系統平臺組的教育局人員" in facts and "您可以填報" in facts
    screenshot(page, "tracking-item-bureau")
    page.get_by_role("textbox", name="辦理情形", exact=True).fill(
        "已與全誼公司協調，寒暑假由客服協助還原密碼。"
    )
    page.get_by_role("button", name="儲存辦理情形").click()
    page.get_by_text("已儲存 108-09-02 的辦理情形").wait_for()
    assert StatusUpdate.objects.filter(
        item__case_no="108-09-02", author__username="bureau"
    ).exists()
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "tracking-item-bureau")


def test_a_coordinator_sees_who_may_update_an_item_and_no_form(page, demo):
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.wait_for_url("**/")
    page.goto("/tracking/108-09-02/")
    assert "系統平臺組的教育局人員" in page.locator("dl.facts").inner_text()
    assert page.get_by_role("heading", name="填報辦理情形").count() == 0


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("coordinator", "coordinator-demo-108", "您訂閱的 108-09-01 有新的辦理情形"),
        ("convener", "convener-demo-108", "您訂閱的 108-09-01 有新的辦理情形"),
        ("bureau", "bureau-demo-108", "填報 108-09-02 的現辦理情形"),
    ],
)
def test_each_roles_home_leads_with_this_weeks_todos(
    page, demo, screenshot, username, password, expected
):
    browser_login(page, username, password)
    page.wait_for_url("**/")
    todo = page.get_by_role("region", name="本週待辦")
    assert expected in todo.inner_text()
    # it comes first, above the apps' blocks
    first_h2 = page.locator("main h2").first.inner_text()
    assert first_h2 == "本週待辦"
    screenshot(page, f"home-{username}")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, f"home-{username}")
    todo.get_by_role("link", name=expected).click()
    page.wait_for_url(re.compile(r"/tracking/108-09-0[12]/"))
