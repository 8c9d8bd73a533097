"""The meeting before it happens: the bureau plans it (nothing shown to members), publishes the
notice (開會通知) to every coordinator and convener with the agenda, an .ics and the link, and
announces a change or the cancellation the same way."""

from datetime import date, datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import convening
from meetings.models import Announcement, AnnouncementDelivery, Convening, Meeting
from portal.models import Membership
from tests import factories

TZ = timezone.get_default_timezone()


@pytest.fixture
def october(bureau):
    """115 年度 10 月份聯席會議, planned, its notice not out."""
    return convening.meeting_plan(
        user=bureau, title="115 年度 10 月份聯席會議", held_on=date(2026, 10, 13),
        start_time=time(10, 0), place="新北市教育研究發展中心 3 樓網管會議室",
        chair="吳科長佳珊", recorder="吳安絜",
        proposals_due=datetime(2026, 10, 6, 17, 0, tzinfo=TZ),
    )  # fmt: skip


@pytest.fixture
def members(coordinator, other_coordinator, convener):
    return coordinator, other_coordinator, convener


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


@pytest.fixture(autouse=True)
def _today_is_before_october(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2026, 9, 20))


def test_the_bureau_plans_a_meeting_in_roc_dates_on_the_page(login, bureau, members):
    client = login(bureau)
    response = client.post(
        reverse("meetings:plan"),
        {"title": "115 年度 10 月份聯席會議", "held_on": "115/10/13", "start_time": "上午 10 時",
         "place": "研發中心 3 樓", "chair": "吳科長佳珊", "recorder": "吳安絜",
         "proposals_due": "115/10/6 17:00"},
    )  # fmt: skip
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:agenda", args=[meeting.pk])
    assert (meeting.held_on, meeting.start_time, meeting.status) == (
        date(2026, 10, 13), time(10, 0), "draft"
    )  # fmt: skip
    plan = meeting.convening
    assert plan.state == "planned" and timezone.localtime(plan.proposals_due) == datetime(
        2026, 10, 6, 17, 0, tzinfo=TZ
    )
    html = client.get(response["Location"]).content.decode()
    assert "民國 115 年 10 月 13 日（星期二）上午 10 時" in html
    assert "民國 115 年 10 月 6 日（星期二）下午 5 時" in html
    assert "籌備中（尚未公開）" in html


def test_a_bad_roc_date_is_a_chinese_message_and_nothing_is_saved(login, bureau):
    response = login(bureau).post(
        reverse("meetings:plan"),
        {"title": "十月", "held_on": "115/13/40", "start_time": "25 時", "place": "x"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "無法辨識時間「25 時」" in html or "不是正確的時間" in html
    assert "115/13/40" in html
    assert not Meeting.objects.exists() and not Convening.objects.exists()


def test_before_the_notice_no_member_sees_anything_of_the_meeting(
    login, october, members, mailoutbox
):
    agenda_url = reverse("meetings:agenda", args=[october.pk])
    for member in members:
        client = login(member)
        assert client.get(agenda_url).status_code == 403
        coming = client.get(reverse("meetings:coming")).content.decode()
        assert "10 月份" not in coming
        key = client.get(reverse("meetings:subscribe")).content.decode()
        assert "10 月份" not in key
        feed = client.get(reverse("meetings:calendar", args=[_feed_key(member)])).content.decode()
        assert "10 月份" not in feed
    assert mailoutbox == []


def _feed_key(user):
    from meetings.models import FeedKey

    return FeedKey.objects.get_or_create(user=user, defaults={"key": f"k-{user.pk}-secret"})[0].key


def test_the_notice_goes_once_to_every_coordinator_and_convener_in_chinese(
    bureau, october, members, run_on_commit, mailoutbox
):
    coordinator, other, convener_user = members
    # a coordinator who is also a convener is mailed once; bureau staff are not mailed
    Membership.objects.create(
        user=coordinator, role="convener", district=factories.DistrictFactory(name="三重分區")
    )
    bureau.email = "bureau@example.org"
    bureau.save()

    announcement = run_on_commit(convening.notice_publish, meeting=october, user=bureau)

    assert announcement.kind == "notice" and announcement.sequence == 0
    recipients = sorted(m.to[0] for m in mailoutbox)
    expected = sorted(u.email for u in members)
    assert recipients == expected and len(expected) == 3
    message = next(m for m in mailoutbox if m.to == [coordinator.email])
    assert (
        message.subject
        == "【開會通知】115 年度 10 月份聯席會議（民國 115 年 10 月 13 日（星期二））"
    )
    assert "會議時間：民國 115 年 10 月 13 日（星期二）上午 10 時" in message.body
    assert "會議地點：新北市教育研究發展中心 3 樓網管會議室" in message.body
    assert "提案截止：民國 115 年 10 月 6 日（星期二）下午 5 時" in message.body
    assert "壹、主席致詞" in message.body and "伍、臨時動議" in message.body
    assert f"/meetings/{october.pk}/agenda/" in message.body
    (name, ics, mimetype) = message.attachments[0]
    assert name == "meeting.ics" and mimetype.startswith("text/calendar")
    assert "METHOD:PUBLISH" in ics and "SEQUENCE:0" in ics
    assert "DTSTART:20261013T020000Z" in ics  # 10:00 in Taipei
    assert f"UID:meeting-{october.pk}@" in ics
    assert AnnouncementDelivery.objects.filter(sent_at__isnull=False).count() == len(expected)


def test_sending_twice_sends_nothing_more(bureau, october, members, run_on_commit, mailoutbox):
    announcement = run_on_commit(convening.notice_publish, meeting=october, user=bureau)
    before = len(mailoutbox)
    assert convening.announcement_send(announcement_id=announcement.pk) == 0
    assert len(mailoutbox) == before == 3


def test_after_the_notice_members_see_the_agenda_page_calendar_and_list(
    login, bureau, october, members, run_on_commit
):
    run_on_commit(convening.notice_publish, meeting=october, user=bureau)
    coordinator = members[0]
    client = login(coordinator)
    html = client.get(reverse("meetings:agenda", args=[october.pk])).content.decode()
    assert "115 年度 10 月份聯席會議議程" in html and "已發開會通知" in html
    assert "發布開會通知</button>" not in html and "取消會議" not in html
    assert reverse("meetings:plan_edit", args=[october.pk]) not in html
    assert "115 年度 10 月份聯席會議" in client.get(reverse("meetings:coming")).content.decode()
    feed = client.get(reverse("meetings:calendar", args=[_feed_key(coordinator)])).content.decode()
    assert "115 年度 10 月份聯席會議" in feed
    # the draft minutes stay closed
    assert client.get(october.get_absolute_url()).status_code == 403


def test_members_cannot_plan_notice_change_or_cancel(login, october, members):
    client = login(members[2])
    assert client.get(reverse("meetings:plan")).status_code == 403
    assert client.post(reverse("meetings:notice", args=[october.pk])).status_code == 403
    assert (
        client.post(reverse("meetings:cancel", args=[october.pk]), {"reason": "x"}).status_code
        == 403
    )
    assert client.get(reverse("meetings:plan_edit", args=[october.pk])).status_code == 403
    assert not Announcement.objects.exists()


def test_a_notice_needs_a_time_and_a_place(bureau):
    meeting = convening.meeting_plan(user=bureau, title="十一月", held_on=date(2026, 11, 10))
    with pytest.raises(convening.ConveningError, match="開始時間與會議地點"):
        convening.notice_publish(meeting=meeting, user=bureau)
    assert not Announcement.objects.exists()


def test_a_change_after_the_notice_is_announced_with_old_and_new(
    login, bureau, october, members, run_on_commit, mailoutbox, django_capture_on_commit_callbacks
):
    run_on_commit(convening.notice_publish, meeting=october, user=bureau)
    mailoutbox.clear()
    client = login(bureau)
    url = reverse("meetings:plan_edit", args=[october.pk])
    form = {"title": october.title, "held_on": "115/10/20", "start_time": "下午 2 時",
            "place": october.place, "chair": october.chair, "recorder": october.recorder,
            "proposals_due": "115/10/13 17:00"}  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 200 and "這個欄位是必須的" in response.content.decode()
    assert mailoutbox == [] and Meeting.objects.get(pk=october.pk).held_on == date(2026, 10, 13)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "reason": "與研習撞期，改期一週"})
    assert response.status_code == 302
    october.refresh_from_db()
    assert (october.held_on, october.start_time) == (date(2026, 10, 20), time(14, 0))
    change = Announcement.objects.get(kind="change")
    assert change.sequence == 1 and change.reason == "與研習撞期，改期一週"
    assert len(mailoutbox) == 3
    message = mailoutbox[0]
    assert message.subject.startswith(
        "【會議變更通知】115 年度 10 月份聯席會議（民國 115 年 10 月 20 日"
    )
    assert (
        "會議日期：民國 115 年 10 月 13 日（星期二） → 民國 115 年 10 月 20 日（星期二）"
        in message.body
    )
    assert "開始時間：上午 10 時 → 下午 2 時" in message.body
    assert "變更說明：與研習撞期，改期一週" in message.body
    ics = message.attachments[0][1]
    assert "SEQUENCE:1" in ics and "DTSTART:20261020T060000Z" in ics


def test_a_change_before_the_notice_is_not_announced(bureau, october, mailoutbox, run_on_commit):
    sent = run_on_commit(
        convening.convening_update, meeting=october, user=bureau, changes={"place": "板橋國小"}
    )
    assert sent is None and mailoutbox == [] and not Announcement.objects.exists()
    assert Meeting.objects.get(pk=october.pk).place == "板橋國小"


def test_cancelling_after_the_notice_tells_everyone_and_calendars_mark_it(
    login, bureau, october, members, run_on_commit, mailoutbox
):
    run_on_commit(convening.notice_publish, meeting=october, user=bureau)
    mailoutbox.clear()
    with pytest.raises(convening.ConveningError, match="取消原因"):
        convening.meeting_cancel(meeting=october, user=bureau, reason="  ")
    run_on_commit(convening.meeting_cancel, meeting=october, user=bureau, reason="颱風停班停課")
    assert Convening.objects.get(meeting=october).state == "cancelled"
    assert len(mailoutbox) == 3
    message = mailoutbox[0]
    assert message.subject.startswith("【會議取消通知】115 年度 10 月份聯席會議")
    assert "原訂民國 115 年 10 月 13 日（星期二）上午 10 時舉行，現已取消" in message.body
    assert "取消原因：颱風停班停課" in message.body
    ics = message.attachments[0][1]
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics and "SEQUENCE:1" in ics
    client = login(members[0])
    feed = client.get(reverse("meetings:calendar", args=[_feed_key(members[0])])).content.decode()
    assert "STATUS:CANCELLED" in feed
    html = client.get(reverse("meetings:agenda", args=[october.pk])).content.decode()
    assert "已取消" in html and "颱風停班停課" in html
    with pytest.raises(convening.ConveningError):
        convening.notice_publish(meeting=october, user=bureau)


def test_cancelling_before_the_notice_mails_no_one(
    bureau, october, members, mailoutbox, run_on_commit
):
    assert (
        run_on_commit(convening.meeting_cancel, meeting=october, user=bureau, reason="併入下月")
        is None
    )
    assert mailoutbox == []
