"""Browser: one month of the network's meeting, from the bureau planning the October meeting to
its published minutes: the notice, a proposal accepted, the divisions' reports, attendance
replies, the sign-in, the agenda turned into the minutes. Nothing of a draft is shown to others
before its time (checked on the page's content, not only its status), and every e-mail is in
Chinese with ROC dates. The live server runs in this process with eager Celery, so mail.outbox
sees every e-mail."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from meetings import rendering, selectors
from meetings.models import Announcement, Meeting, SignIn
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations
from tests.meetings.roundtrip import as_imported, as_stored

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
    assert "116 年度 10 月份" not in page.content() and "網管會議室" not in page.content()
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
    page.get_by_role("link", name="提案", exact=True).click()
    page.get_by_role("link", name="提出提案").click()
    page.get_by_label("案由").fill("請教育局統一採購校園無線網路設備")
    page.get_by_label("說明").fill("文山分區各校設備已逾使用年限。")
    page.get_by_label("辦法").fill("由教育局統一招標，各校提出需求。")
    page.get_by_role("button", name="儲存草稿").click()
    page.get_by_text("已儲存提案草稿").wait_for()
    screenshot(page, "meetings-proposal-draft")
    assert serious_violations(page) == []
    draft_url = page.url

    # the draft is the convener's: 新店國小's coordinator sees nothing of it
    login_as(page, "coordinator", "coordinator-demo-108")
    page.goto(f"/meetings/{meeting.pk}/proposals/")
    assert "統一採購校園無線網路設備" not in page.content()
    assert page.goto(draft_url).status == 403
    assert "統一採購校園無線網路設備" not in page.content()
    login_as(page, "convener", "convener-demo-108")
    page.goto(draft_url)
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
    page.get_by_role("link", name="提案", exact=True).click()
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

    # the schools answer who attends: the convener for two schools of 文山分區
    login_as(page, "convener", "convener-demo-108")
    page.goto(agenda_url)
    page.get_by_role("link", name="出席回覆").click()
    beixin = page.locator("section", has=page.get_by_role("heading", name="北新國小"))
    beixin.get_by_label("代理出席").check()
    beixin.get_by_label("出席（或代理）人員").fill("王代理")
    beixin.get_by_role("button", name="送出北新國小的回覆").click()
    page.get_by_text("已收到北新國小的出席回覆").wait_for()
    ankeng = page.locator("section", has=page.get_by_role("heading", name="安坑國小"))
    ankeng.get_by_label("不克出席").check()
    ankeng.get_by_label("說明").fill("校慶")
    ankeng.get_by_role("button", name="送出安坑國小的回覆").click()
    page.get_by_text("已收到安坑國小的出席回覆").wait_for()
    assert serious_violations(page) == []
    # 新店國小's coordinator attends, and has classes at that time: a timetable note
    login_as(page, "coordinator", "coordinator-demo-108")
    page.goto(f"/meetings/{meeting.pk}/attendance/replies/")
    page.get_by_label("出席", exact=True).check()
    page.get_by_role("button", name="送出新店國小的回覆").click()
    page.get_by_text("已收到新店國小的出席回覆").wait_for()
    page.goto(f"/meetings/{meeting.pk}/timetables/")
    page.get_by_label("教師").fill("新店國小資訊組長")
    page.get_by_label("衝堂課務").fill("週一第 2 節 五年一班資訊課")
    page.get_by_role("button", name="送出課表需求").click()
    page.get_by_text("已送出課表需求").wait_for()
    login_as(page, "convener", "convener-demo-108")
    page.goto(f"/meetings/{meeting.pk}/timetables/")
    page.get_by_role("button", name="彙整新店國小 新店國小資訊組長 的課表").click()
    page.get_by_text("已彙整新店國小").first.wait_for()

    # on the day: the bureau shows the QR code; the coordinator signs in through its link,
    # the recorder ticks 北新國小, whose substitute has no account
    login_as(page, "bureau", "bureau-demo-108")
    page.goto(agenda_url)
    page.get_by_role("link", name="簽到處（QR code）").click()
    assert page.locator(".qr svg").count() == 1
    signin_link = page.locator(".signin-code a").get_attribute("href")
    screenshot(page, "meetings-signin-desk")
    assert serious_violations(page) == []
    login_as(page, "coordinator", "coordinator-demo-108")
    link = urlsplit(signin_link)  # the site's address; the live server has its own
    page.goto(f"{link.path}?{link.query}")
    page.get_by_role("button", name="簽到").click()
    page.get_by_text("新店國小已簽到").first.wait_for()
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "meetings-signin-phone")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    login_as(page, "bureau", "bureau-demo-108")
    page.goto(f"/meetings/{meeting.pk}/signin/desk/")
    page.get_by_label("北新國小").check()
    page.get_by_role("button", name="儲存簽到").click()
    page.get_by_text("已更新簽到：新增 1 校").wait_for()
    assert sorted(SignIn.objects.filter(meeting=meeting).values_list("name", flat=True)) == [
        "新店國小資訊組長", "王代理",
    ]  # fmt: skip

    # after the meeting the recorder turns the agenda into the minutes, writes the 決議,
    # adds a 臨時動議 and publishes
    page.goto(agenda_url)
    page.get_by_role("button", name="轉為會議紀錄草稿").click()
    page.get_by_text("已把議程轉為會議紀錄草稿").wait_for()
    motion = page.locator(".edit-motion", has_text="請教育局統一採購校園無線網路設備")
    motion.get_by_label("決議").fill("照案通過，列入追蹤列管。")
    with page.expect_navigation():
        motion.get_by_role("button", name=re.compile("^儲存案由")).click()
    assert meeting.motions.get().resolution == "照案通過，列入追蹤列管。"
    add = page.locator("#add-motion")
    add.get_by_label("類別").select_option("extempore")
    add.get_by_label("案由").fill("資訊週場地借用。")
    add.get_by_label("決議").fill("由系統平臺組協調。")
    add.get_by_role("button", name="新增").click()
    page.get_by_text("資訊週場地借用。").first.wait_for()
    screenshot(page, "meetings-minutes-from-agenda")

    # the draft minutes are the bureau's until published: the coordinator sees no 決議
    login_as(page, "coordinator", "coordinator-demo-108")
    for url in (agenda_url, f"/meetings/{meeting.pk}/", "/meetings/"):
        page.goto(url)
        assert "照案通過，列入追蹤列管" not in page.content()
        assert "資訊週場地借用" not in page.content()

    login_as(page, "bureau", "bureau-demo-108")
    page.goto(f"/meetings/{meeting.pk}/edit/")
    before = len(mail.outbox)
    page.get_by_role("button", name="發布", exact=True).click()
    page.get_by_text("已發布").first.wait_for()
    published = [m for m in mail.outbox[before:] if m.subject.startswith("【會議紀錄】")]
    assert sorted(m.to[0] for m in published) == ["it@psps.ntpc.edu.tw", "it@xdes.ntpc.edu.tw"]
    for message in published:
        assert message.subject == "【會議紀錄】116 年度 10 月份聯席會議紀錄已發布"
        assert "（民國 116 年 10 月 12 日（星期二））" in message.body
        assert f"/meetings/{meeting.pk}/" in message.body

    # the coordinator reads the minutes and their 簽到表
    login_as(page, "coordinator", "coordinator-demo-108")
    page.goto(f"/meetings/{meeting.pk}/")
    content = page.inner_text("main")
    assert "出席人員：詳簽到表" in content
    assert "案由：請教育局統一採購校園無線網路設備" in content
    assert "決議：照案通過，列入追蹤列管。" in content
    page.get_by_role("link", name="簽到表").click()
    sheet = page.inner_text("main")
    assert "代理出席：王代理" in sheet and "不克出席（校慶）" in sheet
    assert "週一第 2 節 五年一班資訊課" in sheet
    screenshot(page, "meetings-signin-sheet")
    assert serious_violations(page) == []

    # the published minutes are what importing their own text would give
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.is_published
    text = rendering.as_text(selectors.meeting_document(meeting))
    stored, imported = as_stored(meeting), as_imported(text)
    for part in stored:
        assert imported[part] == stored[part], part

    # 文山分區's convener sees the district's absences: 安坑國小 missed it, excused
    login_as(page, "convener", "convener-demo-108")
    page.goto("/meetings/absences/?year=116")
    row = page.locator("tr", has_text="安坑國小")
    assert "116/10/12" in row.inner_text()
    assert "江翠國中" not in page.content()
    # every e-mail of the month is in Chinese with ROC dates, none with a Gregorian year
    for message in mail.outbox:
        assert "2027" not in message.subject + message.body
