"""In a real browser: the bureau uploads the school list (a bad file first, named by row), then
the list of coordinators, and sees who has accepted; at phone and desktop widths."""

import pytest

from portal.models import Invitation, School
from tests import factories
from tests.conftest import both_widths, browser_login
from tests.e2e.a11y import serious_violations
from tests.portal.test_go_live import HEADERS, as_csv, city_schools

pytestmark = pytest.mark.browser


def choose(page, label, name, data):
    page.get_by_label(label).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )


@pytest.mark.django_db(transaction=True)
def test_the_bureau_imports_the_schools_and_invites_their_coordinators(page, screenshot):
    factories.admin_user("it-admin")
    browser_login(page, "it-admin")
    page.get_by_role("heading", name="開站檢查清單（尚有 5 項）").wait_for()
    assert serious_violations(page) == []
    both_widths(page, screenshot, "home-checklist")
    page.get_by_role("link", name="匯入分區與學校名冊").click()  # from the first-run checklist

    rows = city_schools(36)
    rows[4][2] = "幼兒園"
    choose(page, "學校名冊（.xlsx 或 .csv）", "名冊.csv", as_csv(rows, HEADERS))
    page.get_by_role("button", name="匯入").click()
    errors = page.locator("#import-errors")
    errors.wait_for()
    assert "第 6 列，欄位「學制」" in errors.inner_text()
    assert not School.objects.exists()
    both_widths(page, screenshot, "schools-import-errors")

    choose(page, "學校名冊（.xlsx 或 .csv）", "名冊.csv", as_csv(city_schools(36), HEADERS))
    page.get_by_role("button", name="匯入").click()
    page.get_by_text("匯入完成：新增 36 所").wait_for()
    assert School.objects.count() == 36
    assert serious_violations(page) == []
    both_widths(page, screenshot, "schools-import")

    page.goto("/people/invitations/")
    people = [[code, f"it@{domain}"] for code, _, _, _, domain, _ in city_schools(36)]
    choose(page, "邀請名單（.xlsx 或 .csv）", "邀請.csv", as_csv(people, ["學校代碼", "電子郵件"]))
    page.get_by_role("button", name="寄出邀請").click()
    page.get_by_text("已寄出 36 封邀請").wait_for()
    assert Invitation.objects.count() == 36
    page.get_by_role("button", name=f"撤銷給 it@{city_schools(1)[0][4]} 的邀請").click()
    page.get_by_text("連結立即失效").wait_for()
    assert serious_violations(page) == []
    both_widths(page, screenshot, "invitations")


@pytest.mark.django_db(transaction=True)
def test_the_bureau_tests_the_mail_and_sees_that_it_was_accepted(page, screenshot):
    factories.admin_user("it-admin")
    browser_login(page, "it-admin")
    page.goto("/operations/mail-test/")
    page.get_by_label("收件人").fill("it-admin@ntpc.edu.tw")
    page.get_by_role("button", name="寄出測試信").click()
    page.locator("#mail-outcome").get_by_text("已接受寄給 it-admin@ntpc.edu.tw").wait_for()
    assert serious_violations(page) == []
    both_widths(page, screenshot, "mail-test")
