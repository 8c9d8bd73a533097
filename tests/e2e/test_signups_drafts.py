"""In a real browser: editing an answer already sent never withdraws it. 儲存草稿 keeps the sent
version for the bureau until the school sends the new one, and a draft with errors is kept as
typed (未完成) with its errors shown again when the school comes back."""

import io

import pytest
from openpyxl import load_workbook

from portal.demo import load as load_portal_demo
from signups.demo import load as load_signups_demo
from signups.models import Response, Status
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser

TITLE = "新北市政府教育局辦理109年度寒假青少年休閒育樂活動開辦調查表"
HOLIDAY = "活動日期不可在除夕及春假期間（109/1/23~29），請改期。"


def exported_names(page):
    page.goto("/signups/")
    page.get_by_role("link", name="各校填報狀況").first.click()
    assert "已送出" in page.locator("li[data-school='新店國小']").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="下載 Excel（.xlsx）").click()
    ws = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    return [row[3].value for row in ws.iter_rows(min_row=3) if isinstance(row[0].value, int)]


def as_bureau(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-TW")
    page = context.new_page()
    browser_login(page, "bureau", "bureau-demo-108")
    return page


@pytest.mark.django_db(transaction=True)
def test_saving_a_draft_after_sending_keeps_the_sent_version_until_the_new_one_is_sent(
    page, browser, live_server, screenshot
):
    load_portal_demo()
    load_signups_demo()
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.goto("/signups/")
    page.get_by_role("link", name=TITLE).click()
    assert page.locator("#response-status").inner_text() == "已送出"

    page.locator("[name='rows-0-course_name']").fill("FUN Coding 進階班")
    page.get_by_role("button", name="儲存草稿").click()
    assert "尚未送出；教育局看到的仍是第 1 版" in page.locator(".messages").inner_text()
    assert page.locator("#response-status").inner_text() == "已送出"
    assert "教育局目前看到的是第 1 版" in page.locator("#pending-edits").inner_text()
    assert page.locator("[name='rows-0-course_name']").input_value() == "FUN Coding 進階班"

    bureau = as_bureau(browser, live_server)
    assert exported_names(bureau) == ["FUN Coding (KODU+RPG)"]  # the sent version, not the edit

    # a draft with an error is kept as typed, marked 未完成, and its error shown again later
    page.locator("[name='rows-0-activity']").fill("1/25")
    page.get_by_role("button", name="儲存草稿").click()
    assert "已儲存草稿（未完成）：有 1 個問題" in page.locator(".messages").inner_text()
    assert page.locator("#id_rows-0-activity_error").inner_text() == HOLIDAY
    assert page.locator("#response-status").inner_text() == "已送出"
    assert serious_violations(page) == []
    screenshot(page, "signups-draft-unfinished")
    page.reload()
    assert page.locator("[name='rows-0-activity']").input_value() == "1/25"
    assert page.locator("#id_rows-0-activity_error").inner_text() == HOLIDAY
    assert "未完成" in page.locator("#pending-edits").inner_text()
    assert Response.objects.get(school__name="新店國小").status == Status.SUBMITTED
    assert exported_names(bureau) == ["FUN Coding (KODU+RPG)"]

    page.locator("[name='rows-0-activity']").fill("2/3~4")
    page.get_by_role("button", name="送出", exact=True).click()
    assert page.locator("#response-status").inner_text() == "已送出"
    assert "第 2 版" in page.content()
    assert page.locator("#pending-edits").count() == 0
    assert exported_names(bureau) == ["FUN Coding 進階班"]
