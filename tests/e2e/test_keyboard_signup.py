"""The coordinator's signup journey with the keyboard alone, from the front
door: skip link, log in, menu, survey, add two rows (Enter and Space), a refused date reached
from the error summary and fixed, submit – no mouse, no page.goto after the first address.

Extends tests/e2e/test_signups_keyboard.py (signups' own keyboard test, which starts on the
survey page after a mouse login and covers typing a row and reordering): here the whole way in
and out is by keyboard, both new rows come from the add button, the error summary's link is
followed to the field, and every control used shows a visible focus indicator.
"""

import pytest

from portal.demo import load as load_portal_demo
from signups.demo import load as load_signups_demo
from signups.models import Offer, Response, Status

pytestmark = pytest.mark.browser

HOLIDAY = "除夕及春假"


def focused(page, expression="el => el"):
    return page.evaluate(
        f"(() => {{ const el = document.activeElement; return ({expression})(el); }})()"
    )


def tab_to(page, selector, limit=250):
    """Press Tab until the focused element matches `selector`; fails if it never does."""
    for _ in range(limit):
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                         selector):  # fmt: skip
            assert_focus_visible(page)
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def assert_focus_visible(page):
    """WCAG 2.4.7: the focused control draws an outline or a ring (not `outline: none` alone)."""
    style = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return {outline: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow,
                           tag: document.activeElement.outerHTML.slice(0, 80)}; }"""
    )
    visible = (style["outline"] != "none" and style["width"] != "0px") or style["shadow"] != "none"
    assert visible, f"no visible focus on {style['tag']}: {style}"


def fill(page, name, text):
    """Tab to a field of the table and type into it (selects take the typed text as type-ahead)."""
    tab_to(page, f"[name='{name}']")
    if page.evaluate("document.activeElement.tagName") == "SELECT":
        page.keyboard.type(text)
    else:
        page.keyboard.press("Control+A")
        page.keyboard.type(text)
    assert page.locator(f"[name='{name}']").input_value() == text, name


def fill_row(page, index, *, category, name, activity, fee, registration, grades, capacity):
    """From the new row's 類型 (which has the focus), choose the category with the arrow keys
    (`category` = how many options down) and type the rest field by field."""
    prefix = f"rows-{index}-"
    assert focused(page, "el => el.name") == prefix + "category", "the new row has the focus"
    for _ in range(category):
        page.keyboard.press("ArrowDown")
    for field, text in (("course_name", name), ("activity", activity), ("venue", "新店國小"),
                        ("fee", fee), ("registration", registration), ("grade_from", grades[0]),
                        ("grade_to", grades[1]), ("capacity", capacity)):  # fmt: skip
        fill(page, prefix + field, text)


@pytest.mark.django_db(transaction=True)
def test_the_coordinator_files_two_rows_and_submits_with_the_keyboard_alone(page, screenshot):
    load_portal_demo()
    survey = load_signups_demo()
    page.goto("/")

    # the first Tab lands on the skip link
    page.keyboard.press("Tab")
    assert focused(page, "el => el.textContent.trim()") == "跳到主要內容"
    assert_focus_visible(page)

    # log in
    tab_to(page, "a[href^='/accounts/login/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/login/**")
    tab_to(page, "input[name='login']")
    page.keyboard.type("coordinator")
    tab_to(page, "input[name='password']")
    page.keyboard.type("coordinator-demo-108")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login" not in url)

    # menu → the survey list → the survey (which opens 新店國小's table)
    tab_to(page, "nav a[href='/signups/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/signups/")
    tab_to(page, f"main a[href='/signups/{survey.pk}/']")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="開辦課程").wait_for()
    blank_rows = page.locator("tr[data-offer-row]").count()

    # two new rows: one with Enter, one with Space
    tab_to(page, "[data-add-row]")
    page.keyboard.press("Enter")
    first = blank_rows
    fill_row(page, first, category=0, name="Scratch 遊戲設計", activity="109/1/25", fee="免費",
             registration="12/25~1/3", grades=("3", "4"), capacity="25")  # fmt: skip
    tab_to(page, "[data-add-row]")
    page.keyboard.press("Space")
    fill_row(page, first + 1, category=1, name="Micro:bit 創客營", activity="2/5~6", fee="300",
             registration="12/25~1/10", grades=("5", "6"), capacity="24")  # fmt: skip
    assert page.locator("tr[data-offer-row]").count() == blank_rows + 2

    # submit: the holiday date is refused, the summary takes the focus, its link leads to the field
    tab_to(page, "button[value=submit]")
    page.keyboard.press("Enter")
    page.locator("#error-summary").wait_for()
    assert focused(page, "el => el.id") == "error-summary"
    assert HOLIDAY in page.locator("#error-summary").inner_text()
    screenshot(page, "keyboard-signup-error")
    tab_to(page, "#error-summary a")
    page.keyboard.press("Enter")
    field = f"rows-{first}-activity"
    for _ in range(50):  # the CSP forbids wait_for_function's eval; poll instead
        if focused(page, "el => el.name") == field:
            break
        page.wait_for_timeout(100)
    assert focused(page, "el => el.name") == field, (
        "the summary's link moves the focus to the field"
    )
    described = focused(page, "el => el.getAttribute('aria-describedby')")
    assert HOLIDAY in page.locator(f"#{described}").inner_text(), "the error is tied to the field"
    page.keyboard.press("Control+A")
    page.keyboard.type("2/7")

    tab_to(page, "button[value=submit]")
    page.keyboard.press("Space")
    page.locator("#response-status").filter(has_text="已送出").wait_for()
    screenshot(page, "keyboard-signup-submitted")

    response = Response.objects.get(survey=survey, school__name="新店國小")
    assert response.status == Status.SUBMITTED
    assert sorted(Offer.objects.filter(response=response).values_list("course_name", "category")) == [
        ("FUN Coding (KODU+RPG)", "技能研習"), ("Micro:bit 創客營", "營隊"),
        ("Scratch 遊戲設計", "技能研習")]  # fmt: skip
