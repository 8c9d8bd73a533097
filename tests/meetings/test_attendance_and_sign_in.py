"""Attendance: each school answers before the meeting (出席 / 代理出席 / 不克出席), signs in on the
day with the code shown at the meeting (or the recorder ticks it), which makes the 簽到表; the
bureau and a school's convener see its absences over a year; a coordinator with a class clash
asks for a timetable note, which the convener collects."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import attendance, convening, services
from meetings.models import AttendanceReply, SignIn, TimetableNote
from tests import factories

TZ = timezone.get_default_timezone()
A = AttendanceReply.Answer


def plan(bureau, title, held_on, notice=True):
    meeting = convening.meeting_plan(
        user=bureau, title=title, held_on=held_on, start_time=time(10, 0), place="研發中心"
    )
    if notice:
        convening.notice_publish(meeting=meeting, user=bureau)
    return meeting


@pytest.fixture
def october(bureau):
    return plan(bureau, "116 年度 10 月份聯席會議", date(2027, 10, 12))


def code_now(meeting):
    return attendance.signin_code(meeting.pk, timezone.now())


# --- the code ----------------------------------------------------------------------------------


def test_the_sign_in_code_lasts_its_window_and_the_one_after():
    at = datetime(2027, 10, 12, 10, 3, tzinfo=TZ)
    code = attendance.signin_code(7, at, secret="s")
    assert len(code) == 6 and code.isdigit()
    assert attendance.signin_code(7, at + timedelta(minutes=5), secret="s") == code
    step = timedelta(minutes=attendance.CODE_MINUTES)
    assert attendance.signin_code(7, at + step, secret="s") != code
    assert attendance.signin_code_valid(7, code, at + step, secret="s")  # read just before
    assert not attendance.signin_code_valid(7, code, at + 2 * step, secret="s")
    assert not attendance.signin_code_valid(8, code, at, secret="s")  # another meeting's
    assert not attendance.signin_code_valid(7, code, at, secret="other")
    assert not attendance.signin_code_valid(7, "12345", at, secret="s")


# --- replies -----------------------------------------------------------------------------------


def test_a_school_answers_and_a_new_answer_keeps_the_old_one(october, coordinator, xindian_school):
    attendance.reply_set(meeting=october, user=coordinator, school=xindian_school, answer=A.ATTEND)
    attendance.reply_set(
        meeting=october, user=coordinator, school=xindian_school, answer=A.SUBSTITUTE,
        attendee="林代理",
    )  # fmt: skip
    latest = attendance.latest_replies(october)[xindian_school.pk]
    assert (latest.answer, latest.attendee) == (A.SUBSTITUTE, "林代理")
    assert AttendanceReply.objects.filter(meeting=october, school=xindian_school).count() == 2


def test_a_convener_answers_for_a_school_of_the_district_not_of_another(
    october, convener, beixin_school, jiangcui_school
):
    attendance.reply_set(meeting=october, user=convener, school=beixin_school, answer=A.ABSENT,
                         note="校慶")  # fmt: skip
    with pytest.raises(attendance.AttendanceError, match="您不能代江翠國中回覆"):
        attendance.reply_set(meeting=october, user=convener, school=jiangcui_school,
                             answer=A.ATTEND)  # fmt: skip
    assert not AttendanceReply.objects.filter(school=jiangcui_school).exists()


def test_a_substitute_needs_a_name_and_nothing_is_answered_before_the_notice(
    bureau, coordinator, xindian_school, october
):
    with pytest.raises(attendance.AttendanceError, match="請填寫代理人姓名"):
        attendance.reply_set(meeting=october, user=coordinator, school=xindian_school,
                             answer=A.SUBSTITUTE)  # fmt: skip
    planned = plan(bureau, "116 年度 11 月份聯席會議", date(2027, 11, 9), notice=False)
    with pytest.raises(attendance.AttendanceError, match="尚未發布開會通知"):
        attendance.reply_set(meeting=planned, user=coordinator, school=xindian_school,
                             answer=A.ATTEND)  # fmt: skip
    assert not AttendanceReply.objects.exists()


def test_the_reply_page_answers_for_each_own_school(login, october, convener, beixin_school,
                                                    xindian_school):  # fmt: skip
    client = login(convener)
    url = reverse("meetings:attendance_replies", args=[october.pk])
    page = client.get(url).text
    assert "送出北新國小的回覆" in page and "送出新店國小的回覆" in page
    response = client.post(url, {"school": beixin_school.pk, "answer": "substitute"}, follow=True)
    assert "代理出席請填寫代理人姓名" in response.text
    client.post(url, {"school": beixin_school.pk, "answer": "substitute", "attendee": "王代理"})
    assert attendance.latest_replies(october)[beixin_school.pk].attendee == "王代理"


# --- sign-in ------------------------------------------------------------------------------------


def test_the_attendee_signs_in_with_the_code_once(october, coordinator, xindian_school):
    with pytest.raises(attendance.AttendanceError, match="簽到代碼不正確或已過期"):
        attendance.sign_in(meeting=october, user=coordinator, school=xindian_school,
                           name="陳組長", code="000000" if code_now(october) != "000000" else "1")  # fmt: skip
    assert not SignIn.objects.exists()
    row = attendance.sign_in(meeting=october, user=coordinator, school=xindian_school,
                             name="陳組長", code=code_now(october))  # fmt: skip
    assert (row.name, row.method) == ("陳組長", SignIn.Method.SELF)
    with pytest.raises(attendance.AttendanceError, match="新店國小已經簽到"):
        attendance.sign_in(meeting=october, user=coordinator, school=xindian_school, name="陳",
                           code=code_now(october))  # fmt: skip


def test_the_recorder_ticks_and_unticks_schools(october, bureau, coordinator, xindian_school,
                                               beixin_school, convener):  # fmt: skip
    attendance.reply_set(meeting=october, user=convener, school=beixin_school,
                         answer=A.SUBSTITUTE, attendee="王代理")  # fmt: skip
    assert attendance.sign_ins_set(meeting=october, user=bureau,
                                   schools=[xindian_school, beixin_school]) == (2, 0)  # fmt: skip
    assert SignIn.objects.get(school=beixin_school).name == "王代理"
    assert attendance.sign_ins_set(meeting=october, user=bureau, schools=[beixin_school]) == (0, 1)
    assert list(SignIn.objects.values_list("school__name", flat=True)) == ["北新國小"]
    with pytest.raises(attendance.AttendanceError, match="只有教育局人員"):
        attendance.sign_ins_set(meeting=october, user=coordinator, schools=[])


def test_signing_in_from_the_qr_page_and_the_sheet(login, october, bureau, coordinator,
                                                  xindian_school, jiangcui_school):  # fmt: skip
    desk = login(bureau).get(reverse("meetings:signin_desk", args=[october.pk])).text
    code = code_now(october)
    assert "<svg" in desk and code in desk
    url = reverse("meetings:signin", args=[october.pk])
    assert f"{url}?code={code}" in desk
    client = login(coordinator)
    form = client.get(f"{url}?code={code}").text
    assert f'value="{code}"' in form and "江翠國中" not in form
    response = client.post(url, {"code": code, "school": xindian_school.pk, "name": "陳組長"},
                           follow=True)  # fmt: skip
    assert "新店國小已簽到" in response.text
    other = client.post(url, {"code": code, "school": jiangcui_school.pk, "name": "冒名"})
    assert other.status_code == 200 and not SignIn.objects.filter(school=jiangcui_school).exists()
    sheet = login(bureau).get(reverse("meetings:signin_sheet", args=[october.pk])).text
    assert "陳組長" in sheet and "已簽到 1 校／共 2 校" in sheet
    # the sheet goes with the minutes: members read it once they are published
    sheet_url = reverse("meetings:signin_sheet", args=[october.pk])
    assert login(coordinator).get(sheet_url).status_code == 403
    services.meeting_publish(meeting=october, user=bureau)
    assert "陳組長" in login(coordinator).get(sheet_url).text
    minutes = login(coordinator).get(october.get_absolute_url()).text
    assert sheet_url in minutes and "詳簽到表" in minutes


# --- absences over a year -----------------------------------------------------------------------


def test_absences_per_school_over_a_year(login, bureau, convener, coordinator, xindian_school,
                                        beixin_school, jiangcui_school):  # fmt: skip
    sept = plan(bureau, "116 年度 9 月份聯席會議", date(2027, 9, 14))
    octo = plan(bureau, "116 年度 10 月份聯席會議", date(2027, 10, 12))
    attendance.reply_set(meeting=octo, user=convener, school=beixin_school, answer=A.ABSENT)
    attendance.sign_ins_set(meeting=sept, user=bureau, schools=[xindian_school, beixin_school])
    attendance.sign_ins_set(meeting=octo, user=bureau, schools=[xindian_school, jiangcui_school])
    meetings, groups = attendance.absences(116)
    assert [m.pk for m in meetings] == [sept.pk, octo.pk]
    rows = {r.school.name: r for _d, rs in groups for r in rs}
    assert (rows["新店國小"].attended, rows["新店國小"].absent) == (2, 0)
    assert (rows["北新國小"].absent, rows["北新國小"].excused) == (1, 1)
    assert rows["北新國小"].absent_dates == [date(2027, 10, 12)]
    assert (rows["江翠國中"].absent, rows["江翠國中"].excused) == (1, 0)
    url = reverse("meetings:absences") + "?year=116"
    page = login(convener).get(url).text
    assert "北新國小" in page and "江翠國中" not in page  # only the convener's district
    assert "江翠國中" in login(bureau).get(url).text
    assert login(coordinator).get(url).status_code == 403


# --- timetable notes ----------------------------------------------------------------------------


def test_the_convener_collects_the_districts_timetable_notes(
    login, october, coordinator, convener, xindian_school, jiangcui_school
):
    note = attendance.timetable_note_add(
        meeting=october, user=coordinator, school=xindian_school, teacher="陳組長",
        classes="週三第 4 節 五年二班資訊課",
    )  # fmt: skip
    other = factories.convener_of(jiangcui_school.district, username="banqiao-convener")
    with pytest.raises(attendance.AttendanceError, match="只有該分區的分區代表"):
        attendance.timetable_collect(note=note, user=other)
    url = reverse("meetings:timetables", args=[october.pk])
    assert "五年二班" not in login(other).get(url).text
    page = login(convener).get(url).text
    assert "彙整新店國小 陳組長 的課表" in page
    login(convener).post(reverse("meetings:timetable_collect", args=[note.pk]))
    note.refresh_from_db()
    assert note.collected_by == convener and note.collected_at is not None
    with pytest.raises(attendance.AttendanceError, match="已經彙整"):
        attendance.timetable_collect(note=note, user=convener)
    with pytest.raises(attendance.AttendanceError, match="請填寫教師姓名"):
        attendance.timetable_note_add(meeting=october, user=coordinator, school=xindian_school,
                                      teacher="", classes="")  # fmt: skip
    assert TimetableNote.objects.count() == 1
