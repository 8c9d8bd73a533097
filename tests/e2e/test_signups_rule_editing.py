"""In a real browser: the bureau adds a rule to a survey's table on its columns page – the form
shows only the fields the chosen kind uses, the blank new rule has no remove box, a bad period
is refused next to its field in Chinese, the saved rule is shown in words."""

import pytest

from tests.conftest import both_widths, browser_login
from tests.e2e.a11y import serious_violations
from tests.signups.test_any_table import equipment  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_the_bureau_adds_a_period_rule_in_roc_dates(page, screenshot, equipment, bureau):  # noqa: F811
    browser_login(page, bureau.username)
    page.wait_for_url("**/")
    page.goto(f"/signups/{equipment.pk}/columns/")
    rule = page.locator("fieldset.rule-form").first
    assert "新增一條規則" in rule.locator("legend").first.inner_text()
    assert rule.locator('input[name$="-DELETE"]').count() == 0  # nothing to remove yet
    # before a kind is chosen only the kind shows
    assert not rule.get_by_label("期間開始").is_visible()
    assert not rule.get_by_label("上限").is_visible()

    rule.get_by_label("規則種類").select_option(label="須在期間內")
    assert rule.get_by_label("期間開始").is_visible() and rule.get_by_label("欄位").is_visible()
    assert not rule.get_by_label("上限").is_visible()  # 列數上限 and 合計 only
    assert not rule.get_by_label("須早於哪一欄開始").is_visible()  # 須早於另一欄 only
    rule.get_by_label("欄位").select_option(label="預計採購日期")
    rule.get_by_label("期間開始").fill("115/9/1")
    rule.get_by_label("期間結束").fill("115/8/1")  # before the start
    rule.get_by_label("期間名稱").fill("採購")
    assert serious_violations(page) == []
    both_widths(page, screenshot, "signups-rule-new")
    page.get_by_role("button", name="儲存規則").click()

    page.get_by_text("有些規則需要修正，請看標示的說明。").wait_for()
    rule = page.locator("fieldset.rule-form").first
    ends = rule.get_by_label("期間結束")
    assert ends.get_attribute("aria-invalid") == "true"
    error = page.locator(f"#{ends.get_attribute('id')}_error")
    assert error.inner_text() == "期間結束日不可早於開始日。"
    assert rule.get_by_label("期間名稱").input_value() == "採購"  # kept as typed
    assert serious_violations(page) == []
    both_widths(page, screenshot, "signups-rule-refused")

    ends.fill("115/10/31")
    page.get_by_role("button", name="儲存規則").click()
    page.get_by_text("已更新規則。").wait_for()
    assert (
        page.locator("#survey-rules").inner_text()
        == "預計採購日期須在採購期間（115/9/1~10/31）內。"
    )
    saved = page.locator("fieldset.rule-form").first
    assert saved.locator('input[name$="-DELETE"]').count() == 1  # a saved rule can be removed
    blank = page.locator("fieldset.rule-form").nth(1)
    assert blank.locator('input[name$="-DELETE"]').count() == 0

    # switching the saved rule's kind hides its period and shows the limit
    saved.get_by_label("規則種類").select_option(label="列數上限")
    assert not saved.get_by_label("期間開始").is_visible()
    assert not saved.get_by_label("欄位").is_visible()
    assert saved.get_by_label("上限").is_visible()
    assert serious_violations(page) == []
    both_widths(page, screenshot, "signups-rule-saved")
