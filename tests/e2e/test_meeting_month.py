"""Browser: one month of the network's meeting, from the bureau planning the October meeting to
its notice in every member's mailbox (Chinese, ROC dates). The live server runs in this process
with eager Celery, so mail.outbox sees every e-mail."""

import re

import pytest
from django.core import mail

from meetings.models import Announcement, Meeting
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser


def login_as(page, username, password):
    page.context.clear_cookies()
    browser_login(page, username, password)
    page.get_by_role("link", name="會議紀錄").first.wait_for()


@pytest.mark.django_db(transaction=True)
def test_one_month_from_the_bureau_planning_october_to_the_notice(page, screenshot):
    from portal.demo import load as load_people

    load_people()
    page.on("dialog", lambda dialog: dialog.accept())

    # the bureau plans the October meeting: nobody else sees it yet
    login_as(page, "bureau", "bureau-demo-108")
    page.goto("/meetings/")
    page.get_by_role("link", name="籌備新會議").click()
    page.get_by_label("會議名稱").fill("116 年度 10 月份聯席會議")
    page.get_by_label("會議日期").fill("116/10/12")
    page.get_by_label("開始時間").fill("上午 10 時")
    page.get_by_label("會議地點").fill("新北市教育研究發展中心 3 樓網管會議室")
    page.get_by_label("主持人").fill("吳科長佳珊")
    page.get_by_label("紀錄").fill("吳安絜")
    page.get_by_label("提案截止").fill("116/10/5 17:00")
    screenshot(page, "meetings-plan")
    page.get_by_role("button", name="建立會議").click()
    page.get_by_role("heading", name="116 年度 10 月份聯席會議議程").wait_for()
    assert "籌備中（尚未公開）" in page.content()
    meeting = Meeting.objects.get(title="116 年度 10 月份聯席會議")
    agenda_url = f"/meetings/{meeting.pk}/agenda/"
    assert page.url.endswith(agenda_url)

    login_as(page, "coordinator", "coordinator-demo-108")
    page.goto("/meetings/coming/")
    assert "116 年度 10 月份" not in page.content()
    response = page.goto(agenda_url)
    assert response.status == 403
    assert mail.outbox == []

    # the notice goes out with the agenda
    login_as(page, "bureau", "bureau-demo-108")
    page.goto(agenda_url)
    page.get_by_role("button", name="發布開會通知").click()
    page.get_by_text("已發布開會通知").first.wait_for()
    screenshot(page, "meetings-agenda")
    assert serious_violations(page) == []
    notices = [m for m in mail.outbox if m.subject.startswith("【開會通知】")]
    assert sorted(m.to[0] for m in notices) == ["it@psps.ntpc.edu.tw", "it@xdes.ntpc.edu.tw"]
    for message in notices:
        assert (
            message.subject
            == "【開會通知】116 年度 10 月份聯席會議（民國 116 年 10 月 12 日（星期二））"
        )
        assert "會議時間：民國 116 年 10 月 12 日（星期二）上午 10 時" in message.body
        assert "提案截止：民國 116 年 10 月 5 日（星期二）下午 5 時" in message.body
        assert agenda_url in message.body
        assert message.attachments[0][0] == "meeting.ics"
    assert Announcement.objects.filter(meeting=meeting, kind="notice").count() == 1

    # the coordinator now reads the agenda
    login_as(page, "coordinator", "coordinator-demo-108")
    page.goto("/meetings/coming/")
    page.get_by_role("link", name="116 年度 10 月份聯席會議議程").click()
    page.get_by_role("heading", name="116 年度 10 月份聯席會議議程").wait_for()
    assert re.search(r"民國 116 年 10 月 12 日（星期二）\s*上午 10 時", page.content())
    assert page.get_by_role("button", name="發布開會通知").count() == 0
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "meetings-agenda-phone")
