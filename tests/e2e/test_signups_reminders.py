"""In a real browser: the bureau's reminder button says what happened – how many schools were
e-mailed and which have no one to e-mail – instead of claiming every school was reminded."""

import pytest

from portal.demo import load as load_portal_demo
from signups import services
from signups.demo import load as load_signups_demo
from signups.models import Reminder, Survey
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_the_reminder_button_says_who_was_reached_and_who_has_no_one(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    survey = Survey.objects.get()
    waiting = list(services.unanswered_schools(survey))
    no_one = services.unanswered_without_address(survey)
    assert no_one, "the demo has schools without a coordinator's address"
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto(f"/signups/{survey.pk}/grid/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="提醒未回覆的學校").click()
    page.locator(".messages").wait_for()
    text = page.locator(".messages").inner_text()
    reached = len(waiting) - len(no_one)
    if reached:
        assert f"已寄出提醒給 {reached} 所尚未回覆的學校。" in text
    else:
        assert "已寄出" not in text
    assert f"{len(no_one)} 所學校沒有可收信的資訊組長，未寄出：{no_one[0].name}" in text
    section = page.locator("#no-one")
    assert f"沒有人可收提醒的學校（{len(no_one)}）" in section.inner_text()
    section.get_by_role("link", name="邀請資訊組長").click()
    page.get_by_role("heading", name="邀請資訊組長").wait_for()
    assert Reminder.objects.count() == reached
    page.go_back()
    assert serious_violations(page) == []
    screenshot(page, "signups-reminders-no-one")
