"""In a real browser: the bureau uploads its own .xlsx templates, reviews what they become, and
creates the winter-camp survey from the seed's table; a bad template is refused naming the cell;
the new survey is filed by two schools and exported."""

import io

import pytest
from openpyxl import load_workbook

from portal.demo import load as load_portal_demo
from signups.models import Survey
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations
from tests.e2e.test_signups import fill_row
from tests.factories import PASSWORD, coordinator_of
from tests.signups.test_bureau_template import (
    SEED_EXAMPLE,
    SEED_HEADERS,
    SEED_NOTES,
    SEED_TITLE,
    SIX,
    _formula,
    sheet,
)

pytestmark = pytest.mark.browser
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(page, data, name):
    page.locator("#id_file").set_input_files(
        files=[{"name": name, "mimeType": XLSX, "buffer": data}]
    )
    page.get_by_role("button", name="預覽").click()


@pytest.mark.django_db(transaction=True)
def test_the_bureau_builds_surveys_from_its_own_templates(page, browser, live_server, screenshot):
    load_portal_demo()
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto("/signups/")
    page.get_by_role("link", name="依 Excel 範本建立").click()

    for name, (title, headers, example, notes, expected) in SIX.items():
        upload(page, sheet(title, headers, example, notes), f"{name}.xlsx")
        page.get_by_role("heading", name=f"建議：{title}").wait_for()
        for label, _ in expected:
            assert page.locator(f"tr[data-column='{label}']").count() == 1
    assert "颱風備用日" not in page.locator("#proposal-rules").inner_text()  # drill: no rules

    upload(page, sheet(SEED_TITLE, SEED_HEADERS, SEED_EXAMPLE, [], tweak=_formula), "bad.xlsx")
    assert "儲存格 E5 是公式" in page.locator("#template-problems").inner_text()

    upload(page, sheet(SEED_TITLE, SEED_HEADERS, SEED_EXAMPLE, SEED_NOTES), "寒假.xlsx")
    rules = page.locator("#proposal-rules").inner_text()
    assert "寒假（109/1/21~2/10）" in rules and "除夕及春假（109/1/23~29）" in rules
    assert "日期區間" in page.locator("tr[data-column='活動日期']").inner_text()
    assert serious_violations(page) == []
    screenshot(page, "signups-from-template")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "signups-from-template")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("截止時間").fill("119/12/31 17:00")
    page.get_by_role("button", name="建立調查").click()
    page.get_by_role("heading", name=f"{SEED_TITLE}：檢查欄位").wait_for()
    page.get_by_role("button", name="公布調查").click()
    page.get_by_role("heading", name=f"{SEED_TITLE}：各校填報狀況").wait_for()
    survey = Survey.objects.get()
    assert survey.rules().window.text == "109/1/21~2/10"

    # two schools file it in the browser, the bureau exports both
    from portal.models import School

    for school_name in ("新店國小", "北新國小"):
        school = School.objects.get(name=school_name)
        coordinator_of(school, username=f"it-{school.code}")
        context = browser.new_context(base_url=live_server.url, locale="zh-TW")
        other = context.new_page()
        browser_login(other, f"it-{school.code}", PASSWORD)
        other.goto(f"/signups/{survey.pk}/schools/{school.pk}/")
        fill_row(other, 0, category="技能研習", name=f"{school_name} 程式營", activity="2/3~4",
                 fee="免費", registration="12/25~1/3", grades=(4, 6), gender="open",
                 capacity=20)  # fmt: skip
        other.get_by_role("button", name="送出", exact=True).click()
        assert other.locator("#response-status").inner_text() == "已送出"
        context.close()
    page.reload()
    with page.expect_download() as info:
        page.get_by_role("link", name="下載 Excel（.xlsx）").click()
    assert info.value.suggested_filename == f"{SEED_TITLE}.xlsx"
    ws = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    names = [row[3].value for row in ws.iter_rows(min_row=3) if isinstance(row[0].value, int)]
    assert sorted(names) == ["北新國小 程式營", "新店國小 程式營"]
