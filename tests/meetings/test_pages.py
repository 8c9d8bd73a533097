"""The minutes pages: who sees what, the official layout, import, editing, publishing."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import Correction, Meeting, Motion, ReportItem
from portal.models import AuditEvent


@pytest.fixture
def draft(draft_meeting):
    return draft_meeting


def test_anonymous_visitors_are_sent_to_login(client, seed_meeting):
    response = client.get(reverse("meetings:detail", args=[seed_meeting.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_user_without_a_role_sees_the_waiting_page(login, seed_meeting):
    from tests.factories import UserFactory

    response = login(UserFactory(username="nobody")).get(reverse("meetings:list"))
    assert "帳號等待核准" in response.content.decode()


def test_a_coordinator_reads_the_published_minutes_in_the_official_layout(
    login, coordinator, seed_meeting
):
    html = login(coordinator).get(seed_meeting.get_absolute_url()).content.decode()
    for text in ["壹、會議時間：108 年 9 月 10 日（星期二）上午 10 時", "紀錄：吳安絜", "拾壹、散會(下午 12:30)",
                 "陸、上次會議追蹤列管事項：", "案由六：", "(十一)", '<th scope="col">現辦理情形</th>']:  # fmt: skip
        assert text in html, text
    assert (
        '<a href="https://mis.ntpc.edu.tw/" rel="noopener noreferrer">https://mis.ntpc.edu.tw/</a>'
        in html
    )
    assert "編輯草稿" not in html and "更正</a>" not in html


def test_a_coordinator_cannot_see_a_draft(login, coordinator, draft):
    response = login(coordinator).get(draft.get_absolute_url())
    assert response.status_code == 403
    listing = login(coordinator).get(reverse("meetings:list") + "?year=109").content.decode()
    assert draft.title not in listing
    assert AuditEvent.objects.filter(action="access.refused").exists()


def test_a_coordinator_cannot_import_edit_or_publish(login, coordinator, draft):
    client = login(coordinator)
    assert client.get(reverse("meetings:import")).status_code == 403
    assert client.get(reverse("meetings:edit", args=[draft.pk])).status_code == 403
    assert client.post(reverse("meetings:publish", args=[draft.pk])).status_code == 403
    assert Meeting.objects.get(pk=draft.pk).status == "draft"


def test_the_list_is_by_roc_year_newest_first(login, coordinator, seed_meeting, draft):
    services.meeting_publish(meeting=draft, user=None)
    html = login(coordinator).get(reverse("meetings:list")).content.decode()
    assert "109 年" in html and "108 年" in html
    assert draft.title in html and seed_meeting.title not in html  # 109 is shown first
    html = login(coordinator).get(reverse("meetings:list") + "?year=108").content.decode()
    assert seed_meeting.title in html


def test_exports_download(login, coordinator, seed_meeting):
    client = login(coordinator)
    text = client.get(reverse("meetings:text", args=[seed_meeting.pk]))
    assert (
        text["Content-Type"].startswith("text/plain")
        and "拾壹、散會(下午 12:30)" in text.content.decode()
    )
    docx = client.get(reverse("meetings:docx", args=[seed_meeting.pk]))
    assert docx.content[:2] == b"PK" and docx[
        "Content-Disposition"
    ] == "attachment; filename*=utf-8''" + quote("108年9月會議紀錄.docx")


def test_html_typed_into_any_field_is_shown_as_text(login, coordinator, bureau, draft):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    services.meeting_update(meeting=draft, user=bureau, changes={"place": evil, "chair": evil})
    item = ReportItem.objects.filter(meeting=draft).first()
    services.report_item_update(item=item, user=bureau, text=evil)
    motion = Motion.objects.filter(meeting=draft).first()
    services.motion_update(motion=motion, user=bureau, changes={"resolution": evil})
    services.meeting_publish(meeting=draft, user=bureau)
    for url in [draft.get_absolute_url(), reverse("meetings:search") + "?q=script"]:
        html = login(coordinator).get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;" in html and "alert(" in html


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b"", "請貼上會議紀錄全文"),  # an empty upload counts as no file
        (b"\x00\x01\x02binary", "二進位"),
        (b"a" * (3 * 1024 * 1024), "檔案太大"),
    ],
)
def test_a_bad_upload_gives_a_clear_message_and_saves_nothing(
    login, bureau, divisions, upload, message
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = login(bureau).post(
        reverse("meetings:import"),
        {"file": SimpleUploadedFile("x.txt", upload), "action": "preview"},
    )
    assert message in response.content.decode()
    assert Meeting.objects.count() == 0


def _labels(meeting):
    from meetings import rendering, selectors

    doc = selectors.meeting_document(meeting)
    section = next(s for s in doc.sections if s.key == "reports")
    return [(e.label, e.text) for e in rendering.walk_entries(section.entries) if e.depth]


def test_items_are_reordered_and_nested_with_buttons_and_numbering_follows(login, bureau, draft):
    client = login(bureau)
    first, second, third = ReportItem.objects.filter(meeting=draft).order_by("position")
    url = lambda item, action: reverse("meetings:item_action", args=[draft.pk, item.pk, action])  # noqa: E731
    client.post(url(third, "up"))
    assert _labels(draft) == [("(一)", "甲項。"), ("(二)", "丙項。"), ("(三)", "乙項。")]
    client.post(url(second, "indent"))  # 乙 becomes a child of 丙
    assert _labels(draft) == [("(一)", "甲項。"), ("(二)", "丙項。"), ("1、", "乙項。")]
    client.post(url(second, "outdent"))
    assert _labels(draft) == [("(一)", "甲項。"), ("(二)", "丙項。"), ("(三)", "乙項。")]
    client.post(reverse("meetings:item_add", args=[draft.pk]),
                {"add-division": divisions_id(draft), "add-parent": first.pk, "add-text": "甲之一。"})  # fmt: skip
    assert ("1、", "甲之一。") in _labels(draft)
    client.post(url(first, "delete"))
    assert _labels(draft) == [("(一)", "丙項。"), ("(二)", "乙項。")]


def divisions_id(meeting):
    return ReportItem.objects.filter(meeting=meeting).first().division_id


def test_the_edit_page_has_keyboard_usable_buttons(login, bureau, draft):
    html = login(bureau).get(reverse("meetings:edit", args=[draft.pk])).content.decode()
    assert (
        html.count('<button type="submit" class="btn btn-small">上移') == 5
    )  # 3 items + 2 motions
    assert (
        "降一層" in html
        and "升一層" in html
        and "編號（壹、一、(一)、1、(1)）由系統依結構自動產生" in html
    )


def test_bureau_fixes_a_header_field_and_publishes(
    login, bureau, draft, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(bureau)
    data = {"title": draft.title, "held_on": "109/3/10", "start_time": "14:00", "adjourned_time": "",
            "place": "板橋國小 2 樓會議室", "chair": "王科長", "recorder": "李小明",
            "attendance_note": "詳簽到表", "chair_remarks": "略"}  # fmt: skip
    response = client.post(reverse("meetings:edit", args=[draft.pk]), data)
    assert response.status_code == 302
    assert Meeting.objects.get(pk=draft.pk).place == "板橋國小 2 樓會議室"
    assert Correction.objects.count() == 0  # a draft changes freely
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("meetings:publish", args=[draft.pk]))
    meeting = Meeting.objects.get(pk=draft.pk)
    assert meeting.is_published and meeting.published_at
    assert [m.to for m in mailoutbox] == [[coordinator.email]]
    assert meeting.get_absolute_url() in mailoutbox[0].body


def test_published_minutes_change_only_through_a_recorded_correction(login, bureau, seed_meeting):
    client = login(bureau)
    url = reverse("meetings:edit", args=[seed_meeting.pk])
    data = {"title": seed_meeting.title, "held_on": "108/9/10", "start_time": "10:00",
            "adjourned_time": "12:30", "place": "新北市教育研究發展中心 4 樓", "chair": "吳科長佳珊",
            "recorder": "吳安絜", "attendance_note": "詳簽到表", "chair_remarks": "略"}  # fmt: skip
    response = client.post(url, data)
    assert (
        "此欄位是必填" in response.content.decode()
        or "這個欄位是必須的" in response.content.decode()
    )
    client.post(url, {**data, "reason": "地點誤植"})
    correction = Correction.objects.get()
    assert (correction.target, correction.old_value, correction.new_value, correction.reason) == (
        "會議地點", "新北市教育研究發展中心 3 樓網管會議室", "新北市教育研究發展中心 4 樓", "地點誤植",
    )  # fmt: skip
    assert correction.corrected_by == bureau
    item = ReportItem.objects.filter(meeting=seed_meeting).first()
    client.post(reverse("meetings:item_action", args=[seed_meeting.pk, item.pk, "delete"]))
    assert ReportItem.objects.filter(pk=item.pk).exists()  # structure is frozen once published
    html = client.get(seed_meeting.get_absolute_url()).content.decode()
    assert "更正紀錄" in html and "地點誤植" in html


def test_an_item_correction_without_a_reason_is_refused(bureau, seed_meeting):
    item = ReportItem.objects.filter(meeting=seed_meeting).first()
    with pytest.raises(services.MeetingError):
        services.report_item_update(item=item, user=bureau, text="改過的文字。")
    services.report_item_update(item=item, user=bureau, text="改過的文字。", reason="錯字")
    assert Correction.objects.get().field == f"report_item:{item.pk}"


def test_search_finds_two_character_terms_and_names_and_links_to_the_item(
    login, coordinator, seed_meeting, draft
):
    client = login(coordinator)
    html = client.get(reverse("meetings:search"), {"q": "黑快馬"}).content.decode()
    assert "<mark>黑快馬</mark>" in html
    motion = Motion.objects.get(meeting=seed_meeting, subject__contains="RPage")
    assert f"{seed_meeting.get_absolute_url()}#motion-{motion.pk}" in html
    html = client.get(reverse("meetings:search"), {"q": "資安"}).content.decode()
    item = ReportItem.objects.get(meeting=seed_meeting, text__startswith="系統特權操作")
    assert f"#item-{item.pk}" in html and "(3)" in html
    assert (
        "甲項"
        not in client.get(reverse("meetings:search"), {"q": "甲項"})
        .content.decode()
        .split("找到")[1]
    )


def test_a_one_character_search_asks_for_more(login, coordinator, seed_meeting):
    html = login(coordinator).get(reverse("meetings:search"), {"q": "資"}).content.decode()
    assert "請輸入至少 2 個字" in html


def test_feeds_need_the_users_key(client, login, coordinator, seed_meeting, draft):
    import time_machine

    listing = login(coordinator).get(reverse("meetings:list")).content.decode()
    assert reverse("meetings:subscribe") in listing
    page = client.get(reverse("meetings:subscribe")).content.decode()
    key = coordinator.meetings_feed_key.key
    assert key not in listing  # the key is shown on the subscribe page only
    assert f"http://testserver{reverse('meetings:feed', args=[key])}" in page
    assert f"http://testserver{reverse('meetings:calendar', args=[key])}" in page
    client.logout()
    atom = client.get(reverse("meetings:feed", args=[key]))
    assert atom.status_code == 200 and "108 年度 9 月份聯席會議紀錄" in atom.content.decode()
    assert draft.title not in atom.content.decode()
    assert client.get(reverse("meetings:feed", args=["wrong"])).status_code == 404
    Meeting.objects.filter(pk=draft.pk).update(announced=True)  # see test_calendar.py
    with time_machine.travel("2020-03-01 09:00 +0800"):
        ics = client.get(reverse("meetings:calendar", args=[key])).content.decode()
    assert "BEGIN:VEVENT" in ics and "SUMMARY:109 年度 3 月份聯席會議" in ics
    assert "DTSTART:20200310T060000Z" in ics and "LOCATION:板橋國小" in ics
    assert "108 年度" not in ics  # past meetings are not upcoming


def test_the_home_page_shows_the_latest_minutes(login, coordinator, seed_meeting):
    html = login(coordinator).get("/").content.decode()
    assert "最新：" in html and seed_meeting.get_absolute_url() in html


# --- the meeting page follows changes at once (its minutes are a cached fragment) --------------


def _reader(user):
    from django.test import Client

    reader = Client()
    reader.force_login(user)
    return reader


def test_the_meeting_page_follows_a_change_and_a_withdrawal_at_once(
    coordinator, xindian_school, bureau, seed_meeting
):
    from tests import factories

    url = seed_meeting.get_absolute_url()
    first = _reader(coordinator).get(url).content.decode()
    assert seed_meeting.title in first
    assert "發布" not in first.split('aria-label="會議紀錄工具"')[1].split("</nav>")[0]
    neighbour = _reader(factories.coordinator_of(xindian_school, username="xd-2"))
    second = neighbour.get(url).content.decode()
    assert seed_meeting.title in second and '<span class="who">xd-2</span>' in second

    seed_meeting.title = "108 年度 9 月份聯席會議紀錄（更正）"
    seed_meeting.save()
    assert "（更正）" in neighbour.get(url).content.decode()

    seed_meeting.status = seed_meeting.Status.DRAFT
    seed_meeting.save()
    assert neighbour.get(url).status_code in (403, 404)
    assert _reader(bureau).get(url).status_code == 200  # staff still see the draft
