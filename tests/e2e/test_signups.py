"""The winter-camp survey in a real browser: a coordinator files, the bureau sees and exports."""

import io

import pytest
from openpyxl import load_workbook

from portal.demo import load as load_portal_demo
from signups.demo import load as load_signups_demo
from tests.conftest import browser_login

pytestmark = pytest.mark.browser

HOLIDAY = "活動日期不可在除夕及春假期間（109/1/23~29），請改期。"


def fill_row(page, index, *, category, name, activity, fee, registration, grades, gender, capacity):
    prefix = f"[name='rows-{index}-"
    page.locator(prefix + "category']").select_option(category)
    page.locator(prefix + "course_name']").fill(name)
    page.locator(prefix + "activity']").fill(activity)
    page.locator(prefix + "venue']").fill("新店國小")
    page.locator(prefix + "fee']").fill(fee)
    page.locator(prefix + "registration']").fill(registration)
    page.locator(prefix + "grade_from']").select_option(str(grades[0]))
    page.locator(prefix + "grade_to']").select_option(str(grades[1]))
    page.locator(prefix + "gender']").select_option(gender)
    page.locator(prefix + "capacity']").fill(str(capacity))


def bureau_downloads_the_table(page, screenshot):
    page.get_by_role("button", name="登出").click()
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto("/signups/")
    page.get_by_role("link", name="各校填報狀況").first.click()
    xindian = page.locator("li[data-school='新店國小']")
    assert "已送出" in xindian.inner_text()
    assert "3 列" in xindian.inner_text()
    screenshot(page, "signups-grid")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "signups-grid")
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as info:
        page.get_by_role("link", name="下載 Excel（.xlsx）").click()
    ws = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    return [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=5)]


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_files_two_rows_and_the_bureau_exports_them(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.goto("/signups/")
    page.get_by_role(
        "link", name="新北市政府教育局辦理109年度寒假青少年休閒育樂活動開辦調查表"
    ).click()
    page.get_by_role("heading", name="開辦課程").wait_for()
    assert page.locator("[name='rows-0-course_name']").input_value() == "FUN Coding (KODU+RPG)"

    page.get_by_role("button", name="新增一列").click()  # JS: a third row without reloading
    fill_row(page, 1, category="技能研習", name="Scratch 遊戲設計", activity="109/1/25", fee="免費",
             registration="12/25~1/3", grades=(3, 4), gender="open", capacity=25)  # fmt: skip
    fill_row(page, 2, category="營隊", name="Micro:bit 創客營", activity="2/5~6", fee="300",
             registration="12/25~1/10", grades=(5, 6), gender="girls_first", capacity=24)  # fmt: skip
    screenshot(page, "signups-filing-filled")
    page.get_by_role("button", name="送出", exact=True).click()

    error = page.locator("#id_rows-1-activity_error")
    assert error.inner_text() == HOLIDAY
    assert page.locator("[name='rows-1-activity']").get_attribute("aria-invalid") == "true"
    assert f"第 2 列，欄位 活動日期：{HOLIDAY}" in page.locator("#error-summary").inner_text()
    screenshot(page, "signups-filing-error")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "signups-filing-error")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator("[name='rows-1-activity']").fill("2/7")
    page.get_by_role("button", name="送出", exact=True).click()
    assert page.locator("#response-status").inner_text() == "已送出"
    assert "第 2 版" in page.content()
    screenshot(page, "signups-filing-submitted")

    rows = bureau_downloads_the_table(page, screenshot)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [r[3] for r in rows] == ["FUN Coding (KODU+RPG)", "Scratch 遊戲設計", "Micro:bit 創客營"]
    assert rows[1][4] == "2/7" and rows[1][8] == "3~4年級" and rows[1][6] == "免費"
    assert rows[2][4:10] == ["2/5~6", "新店國小", 300, "12/25~1/10", "5~6年級 女生優先", 24]
