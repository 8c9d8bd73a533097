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
def test_one_month_from_the_bureau_planning_october_to_the_proposals(page, screenshot):
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
    page.set_viewport_size({"width": 1280, "height": 900})

    # 文山分區's convener proposes; the draft is theirs until it is sent
    login_as(page, "convener", "convener-demo-108")
    page.goto(agenda_url)
    page.get_by_role("link", name=re.compile("^提案")).click()
    page.get_by_role("link", name="提出提案").click()
    page.get_by_label("案由").fill("請教育局統一採購校園無線網路設備")
    page.get_by_label("說明").fill("文山分區各校設備已逾使用年限。")
    page.get_by_label("辦法").fill("由教育局統一招標，各校提出需求。")
    page.get_by_role("button", name="儲存草稿").click()
    page.get_by_text("已儲存提案草稿").wait_for()
    screenshot(page, "meetings-proposal-draft")
    assert serious_violations(page) == []
    before = len(mail.outbox)
    page.get_by_role("button", name="送出給教育局").click()
    page.get_by_text("提案已改為「已送出」").wait_for()
    sent = mail.outbox[before:]
    assert [m.to for m in sent] == [["bureau@ntpc.edu.tw"]]
    assert sent[0].subject.startswith("【提案已送出】116 年度 10 月份聯席會議")
    assert "（民國 116 年 10 月 12 日（星期二））" in sent[0].body

    # the bureau accepts it onto the agenda
    login_as(page, "bureau", "bureau-demo-108")
    page.goto(agenda_url)
    page.get_by_role("link", name=re.compile("^提案")).click()
    page.get_by_role("link", name="請教育局統一採購校園無線網路設備").click()
    before = len(mail.outbox)
    page.get_by_role("button", name="列入議程").click()
    page.get_by_text("提案已改為「已列入議程」").wait_for()
    screenshot(page, "meetings-proposal")
    accepted = mail.outbox[before:]
    assert [m.to for m in accepted] == [["it@psps.ntpc.edu.tw"]]
    assert accepted[0].subject.startswith("【提案已列入議程】")
    page.goto(agenda_url)
    assert "案由：請教育局統一採購校園無線網路設備（提案單位：文山分區）" in page.content()

    # the divisions fill their 業務報告 (the demo clerk is of 系統平臺組)
    page.get_by_role("navigation", name=re.compile("的籌備$")).get_by_role(
        "link", name="業務報告", exact=True
    ).click()
    page.get_by_role("heading", name=re.compile("^業務報告")).wait_for()
    page.get_by_label("新增業務報告").fill(
        "請各校於 10 月底前更新學校網站。\n資訊週活動報名至 10/20 止。"
    )
    page.get_by_role("button", name="加入系統平臺組的業務報告").click()
    page.get_by_text("已加入系統平臺組的業務報告").wait_for()
    screenshot(page, "meetings-division-reports")
    assert serious_violations(page) == []
    page.goto(agenda_url)
    content = page.inner_text("main")
    assert "(一)請各校於 10 月底前更新學校網站。" in content
    assert "(二)資訊週活動報名至 10/20 止。" in content
