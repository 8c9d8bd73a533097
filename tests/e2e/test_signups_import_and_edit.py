"""In a real browser: a coordinator imports a spreadsheet through the progress page (a bad row is
named on the result page; the fixed file is saved), and the bureau edits the survey."""

import pytest

from portal.demo import load as load_portal_demo
from signups.demo import load as load_signups_demo
from signups.models import Offer, Survey, SurveyChange
from tests.conftest import both_widths, browser_login
from tests.e2e.a11y import serious_violations
from tests.signups.test_excel import SEED_ROW, xlsx

pytestmark = pytest.mark.browser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(page, rows, name):
    page.locator("#id_import_file").set_input_files(
        files=[{"name": name, "mimeType": XLSX, "buffer": xlsx(rows)}]
    )
    page.get_by_role("button", name="匯入", exact=True).click()
    page.get_by_role("heading", name="匯入 新店國小 的 Excel 填報表").wait_for()
    page.get_by_role("link", name="查看結果").wait_for()  # the page polled until the job finished


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_imports_a_spreadsheet_and_sees_the_bad_row_then_the_result(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    browser_login(page, "coordinator", "coordinator-demo-108")
    survey = Survey.objects.get()
    page.goto("/signups/")
    page.get_by_role("link", name=survey.title).click()
    rows = [[str(i), *SEED_ROW[1:3], f"程式設計 {i}", *SEED_ROW[4:]] for i in range(1, 6)]
    rows[3][4] = "1/25"  # Excel row 6, in the New Year holiday

    upload(page, rows, "新店國小-寒假.xlsx")
    assert page.locator("#job-progress").get_attribute("value") == "100"
    assert "發現 1 個問題" in page.locator("#job-message").inner_text()
    both_widths(page, screenshot, "signups-import-progress")
    page.get_by_role("link", name="查看結果").click()
    page.get_by_role("heading", name="匯入未完成：檔案中有 1 個問題").wait_for()
    problems = page.locator(".import-problems li").all_inner_texts()
    assert problems == [
        "第 6 列，欄位 活動日期：活動日期不可在除夕及春假期間（109/1/23~29），請改期。"
    ]
    assert serious_violations(page) == []
    both_widths(page, screenshot, "signups-import-refused")
    assert list(Offer.objects.values_list("course_name", flat=True)) == ["FUN Coding (KODU+RPG)"]

    page.get_by_role("link", name="回到 新店國小 的填報").click()
    rows[3][4] = "2/7"
    upload(page, rows, "新店國小-寒假-修正.xlsx")
    page.get_by_role("link", name="查看結果").click()
    page.get_by_role("heading", name="匯入完成").wait_for()
    assert "已匯入 5 列並存為草稿" in page.content()
    both_widths(page, screenshot, "signups-import-saved")
    page.get_by_role("link", name="回到 新店國小 的填報").click()
    assert page.locator("[name='rows-3-activity']").input_value() == "2/7"
    recent = page.locator("#recent-imports + ul").inner_text()
    assert "新店國小-寒假-修正.xlsx：已匯入（5 列）" in recent
    assert "新店國小-寒假.xlsx：未匯入（1 個問題）" in recent
    page.locator("#recent-imports").scroll_into_view_if_needed()
    both_widths(page, screenshot, "signups-filing-imports")


@pytest.mark.django_db(transaction=True)
def test_the_bureau_edits_the_survey_and_sees_the_change_recorded(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto("/signups/")
    page.get_by_role("link", name="修改調查").first.click()
    page.get_by_role("heading", name="修改調查：", exact=False).wait_for()
    assert serious_violations(page) == []
    both_widths(page, screenshot, "signups-survey-edit")

    page.get_by_label("截止前幾天自動提醒").fill("5")
    new = page.locator("fieldset.blackout").last
    new.get_by_label("名稱").fill("校慶補假")
    new.get_by_label("開始").fill("109/2/5")
    new.get_by_label("結束").fill("109/2/4")  # reversed: refused on its field
    page.get_by_role("button", name="儲存修改").click()
    assert page.locator("#id_blackouts-1-ends_on_error").inner_text() == "結束日不可早於開始日。"
    assert not SurveyChange.objects.exists()
    page.locator("fieldset.blackout").last.get_by_label("結束").fill("109/2/5")
    page.get_by_role("button", name="儲存修改").click()
    assert (
        "已更新調查：截止前幾天自動提醒、不可辦理期間。" in page.locator(".messages").inner_text()
    )

    page.get_by_role("link", name="修改調查").click()
    history = page.locator("#survey-history + article").inner_text()
    assert "截止前幾天自動提醒：3 → 5" in history
    assert "校慶補假（109/2/5～109/2/5）" in history
    both_widths(page, screenshot, "signups-survey-edit-history")
