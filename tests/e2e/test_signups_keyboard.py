"""The coordinator's journey with the keyboard only: Tab, typing, Enter, arrows."""

import pytest

from portal.demo import load as load_portal_demo
from signups.demo import load as load_signups_demo
from signups.models import Offer, Response, Status
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def tab_to(page, selector, limit=200):
    """Press Tab until the focused element matches `selector` (fails if it never does)."""
    for _ in range(limit):
        if page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def type_row(page, *, name, activity, fee, registration, grades, capacity):
    """From the focused 類型 select, fill the rest of the row field by field."""
    for text in (name, activity, "新店國小", fee, registration, *grades):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # 招收對象 stays as it is (or was set by the caller later)
    page.keyboard.press("Tab")
    page.keyboard.type(capacity)


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_files_reorders_and_submits_with_the_keyboard_only(page, screenshot):
    load_portal_demo()
    survey = load_signups_demo()
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.goto(f"/signups/{survey.pk}/")
    page.get_by_role("heading", name="開辦課程").wait_for()

    tab_to(page, "[name='rows-1-category']")
    type_row(page, name="Scratch 遊戲設計", activity="2/7", fee="免費", registration="12/25~1/3",
             grades=("3", "4"), capacity="25")  # fmt: skip

    tab_to(page, "[data-add-row]")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "rows-2-category"  # focus moved in
    page.keyboard.press("ArrowDown")  # 營隊
    type_row(page, name="Micro:bit 創客營", activity="2/5~6", fee="300", registration="12/25~1/10",
             grades=("5", "6"), capacity="24")  # fmt: skip
    page.keyboard.press("Shift+Tab")  # back to 招收對象
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # 女生優先
    assert page.locator("[name='rows-2-gender']").input_value() == "girls_first"

    tab_to(page, "[aria-label='第 3 列上移']")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "第 2 列上移"
    page.locator("#offer-live").filter(has_text="已移到第 2 列").wait_for(state="attached")
    screenshot(page, "signups-filing-keyboard")

    tab_to(page, "button[value=submit]")
    page.keyboard.press("Enter")
    page.locator("#response-status").filter(has_text="已送出").wait_for()
    response = Response.objects.get(survey=survey, school__name="新店國小")
    assert response.status == Status.SUBMITTED
    assert list(Offer.objects.filter(response=response).values_list("course_name", "gender")) == [
        ("FUN Coding (KODU+RPG)", "girls_only"), ("Micro:bit 創客營", "girls_first"),
        ("Scratch 遊戲設計", "open")]  # fmt: skip
