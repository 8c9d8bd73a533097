"""Attendance: each school's answer before the meeting, the sign-in on the day, the 簽到表 and
absences over a year; the timetable notes (課表) the conveners collect.

The sign-in code is a pure function of the meeting, the time and the site's secret: it changes
every CODE_MINUTES, the page shown at the meeting (the QR code and the code itself) is the only
place it appears, and a code from the window before is still taken, so a person who scanned it
just before the change is not refused."""

import hmac
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal import access, audit, rocdate
from portal.models import District, School

from .attendance_models import AttendanceReply, SignIn, TimetableNote
from .convening_models import Convening
from .models import Meeting

CODE_MINUTES = 10
CODE_DIGITS = 6


class AttendanceError(ValueError):
    """A reply, sign-in or note the rules refuse; the message is Chinese."""


# --- the sign-in code (pure) -------------------------------------------------------------------


def _window(at):
    return int(at.timestamp()) // (CODE_MINUTES * 60)


def signin_code(meeting_id, at, *, secret=None):
    """The 6-digit code valid at `at` for this meeting."""
    digest = salted_hmac(
        "meetings.signin", f"{meeting_id}:{_window(at)}", secret=secret or settings.SECRET_KEY
    ).hexdigest()
    return str(int(digest[:12], 16) % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def signin_code_valid(meeting_id, code, at, *, secret=None):
    """The code of this window or the one before (a code read just before it changed)."""
    code = (code or "").strip()
    if len(code) != CODE_DIGITS or not code.isdigit():
        return False
    step = CODE_MINUTES * 60
    earlier = datetime.fromtimestamp(at.timestamp() - step, tz=at.tzinfo)
    return any(
        hmac.compare_digest(code, signin_code(meeting_id, t, secret=secret)) for t in (at, earlier)
    )


def code_expires_at(at):
    """When the code shown at `at` stops being the current one."""
    step = CODE_MINUTES * 60
    return datetime.fromtimestamp((_window(at) + 1) * step, tz=timezone.get_default_timezone())


# --- rules shared by the writes -----------------------------------------------------------------


def _open_meeting(meeting):
    """Attendance is answered and signed once the notice is out, until the minutes are
    published; never for a cancelled meeting."""
    convening = Convening.objects.filter(meeting=meeting).first()
    if convening is None or not convening.is_noticed:
        raise AttendanceError("這次會議尚未發布開會通知。")
    if convening.is_cancelled:
        raise AttendanceError("這次會議已取消。")
    if Meeting.objects.filter(pk=meeting.pk, status=Meeting.Status.PUBLISHED).exists():
        raise AttendanceError("會議紀錄已發布，簽到表已確定。")
    return convening


def _school_of(user, school):
    if not access.attendance_schools(user).filter(pk=school.pk).exists():
        raise AttendanceError(f"您不能代{school.name}回覆或簽到。")


# --- before the meeting: the replies ------------------------------------------------------------


@transaction.atomic
def reply_set(*, meeting, user, school, answer, attendee="", note=""):
    """A school's answer (出席 / 代理出席 / 不克出席); a new answer is a new row."""
    _open_meeting(meeting)
    _school_of(user, school)
    if answer not in AttendanceReply.Answer.values:
        raise AttendanceError("請選擇出席、代理出席或不克出席。")
    attendee, note = (attendee or "").strip(), (note or "").strip()
    if answer == AttendanceReply.Answer.SUBSTITUTE and not attendee:
        raise AttendanceError(f"{school.name}：代理出席請填寫代理人姓名。")
    if answer == AttendanceReply.Answer.ATTEND and not attendee:
        attendee = user.display_name
    if answer == AttendanceReply.Answer.ABSENT:
        attendee = ""
    if len(attendee) > 60 or len(note) > 200:
        raise AttendanceError(f"{school.name}：姓名最多 60 字，說明最多 200 字。")
    reply = AttendanceReply.objects.create(
        meeting=meeting, school=school, answer=answer, attendee=attendee, note=note,
        answered_by=user,
    )  # fmt: skip
    audit.record(
        "meetings.attendance_replied", actor=user, target=meeting, meeting_id=meeting.pk,
        school_id=school.pk, answer=answer,
    )  # fmt: skip
    return reply


def latest_replies(meeting):
    """{school id: its latest reply}."""
    latest = {}
    for reply in AttendanceReply.objects.filter(meeting=meeting).order_by("school_id", "-id"):
        latest.setdefault(reply.school_id, reply)
    return latest


# --- on the day: the sign-in ---------------------------------------------------------------------


@transaction.atomic
def sign_in(*, meeting, user, school, name, code, at=None):
    """The attendee signs in with the code shown at the meeting."""
    _open_meeting(meeting)
    at = at or timezone.now()
    if not signin_code_valid(meeting.pk, code, at):
        raise AttendanceError("簽到代碼不正確或已過期，請以會場顯示的最新代碼簽到。")
    _school_of(user, school)
    name = (name or "").strip() or user.display_name
    if len(name) > 60:
        raise AttendanceError("簽到人姓名最多 60 字。")
    try:
        with transaction.atomic():
            row = SignIn.objects.create(
                meeting=meeting, school=school, name=name, method=SignIn.Method.SELF,
                signed_by=user,
            )  # fmt: skip
    except IntegrityError:
        raise AttendanceError(f"{school.name}已經簽到。") from None
    audit.record("meetings.signed_in", actor=user, target=meeting, school_id=school.pk)
    return row


@transaction.atomic
def sign_ins_set(*, meeting, user, schools):
    """The recorder ticks the schools present: ticked ones without a sign-in are signed in (the
    name from the school's reply), unticked ones lose theirs (a mistaken tick)."""
    if not access.is_staff(user):
        raise AttendanceError("只有教育局人員可以代為勾選簽到。")
    _open_meeting(meeting)
    wanted = {s.pk: s for s in schools}
    have = {row.school_id: row for row in SignIn.objects.filter(meeting=meeting)}
    replies = latest_replies(meeting)
    added = [
        SignIn(
            meeting=meeting,
            school=school,
            method=SignIn.Method.RECORDER,
            signed_by=user,
            name=replies[pk].attendee if pk in replies else "",
        )  # fmt: skip
        for pk, school in wanted.items()
        if pk not in have
    ]
    SignIn.objects.bulk_create(added)
    removed = [pk for pk in have if pk not in wanted]
    SignIn.objects.filter(meeting=meeting, school_id__in=removed).delete()
    if added or removed:
        audit.record(
            "meetings.sign_ins_ticked", actor=user, target=meeting, meeting_id=meeting.pk,
            added=sorted(s.school_id for s in added), removed=sorted(removed),
        )  # fmt: skip
    return len(added), len(removed)


# --- the 簽到表 -----------------------------------------------------------------------------------


@dataclass
class SheetRow:
    school: School
    reply: AttendanceReply | None
    sign_in: SignIn | None
    notes: list = field(default_factory=list)

    @property
    def replied(self):
        if self.reply is None:
            return "未回覆"
        if self.reply.answer == AttendanceReply.Answer.SUBSTITUTE:
            return f"代理出席：{self.reply.attendee}"
        if self.reply.answer == AttendanceReply.Answer.ATTEND:
            return f"出席：{self.reply.attendee}"
        return "不克出席" + (f"（{self.reply.note}）" if self.reply.note else "")


def sheet(meeting, *, district_ids=None):
    """The 簽到表: every school by district, its reply, its sign-in and timetable notes.
    `district_ids` limits it (None: all)."""
    schools = School.objects.select_related("district").order_by("district__position", "code")
    if district_ids is not None:
        schools = schools.filter(district_id__in=district_ids)
    replies = latest_replies(meeting)
    signed = {row.school_id: row for row in SignIn.objects.filter(meeting=meeting)}
    notes = {}
    for note in TimetableNote.objects.filter(meeting=meeting):
        notes.setdefault(note.school_id, []).append(note)
    groups = {}
    for school in schools:
        row = SheetRow(
            school, replies.get(school.pk), signed.get(school.pk), notes.get(school.pk, [])
        )
        groups.setdefault(school.district, []).append(row)
    return list(groups.items())


def sheet_counts(groups):
    rows = [row for _d, rs in groups for row in rs]
    return {"schools": len(rows), "signed": sum(1 for r in rows if r.sign_in)}


# --- absences over a year ---------------------------------------------------------------------


@dataclass
class AbsenceRow:
    school: School
    meetings: int
    attended: int
    excused: int  # answered 不克出席 beforehand
    absent_dates: list  # the meetings it missed

    @property
    def absent(self):
        return self.meetings - self.attended


def meetings_with_sign_in(roc_year):
    """The meetings of a ROC year that kept a sign-in sheet in the portal (imported minutes of
    the past have none, so they count for nobody)."""
    year = roc_year + rocdate.ROC_OFFSET
    return list(
        Meeting.objects.filter(held_on__year=year, sign_ins__isnull=False)
        .exclude(convening__state=Convening.State.CANCELLED)
        .distinct()
        .order_by("held_on", "id")
    )


def absences(roc_year, *, district_ids=None):
    """Per school, over the ROC year: meetings kept with a sign-in, attended, missed (and of
    those, answered 不克出席 beforehand), by district."""
    meetings = meetings_with_sign_in(roc_year)
    ids = [m.pk for m in meetings]
    signed = set(SignIn.objects.filter(meeting_id__in=ids).values_list("meeting_id", "school_id"))
    excused = set()
    latest = {}
    for meeting_id, school_id, answer in (
        AttendanceReply.objects.filter(meeting_id__in=ids)
        .order_by("id")
        .values_list("meeting_id", "school_id", "answer")
    ):
        latest[(meeting_id, school_id)] = answer
    excused = {k for k, answer in latest.items() if answer == AttendanceReply.Answer.ABSENT}
    schools = School.objects.select_related("district").order_by("district__position", "code")
    if district_ids is not None:
        schools = schools.filter(district_id__in=district_ids)
    groups = {}
    for school in schools:
        missed = [m for m in meetings if (m.pk, school.pk) not in signed]
        row = AbsenceRow(
            school=school,
            meetings=len(meetings),
            attended=len(meetings) - len(missed),
            excused=sum(1 for m in missed if (m.pk, school.pk) in excused),
            absent_dates=[m.held_on for m in missed],
        )
        groups.setdefault(school.district, []).append(row)
    return meetings, list(groups.items())


# --- timetable notes (課表) ---------------------------------------------------------------------


@transaction.atomic
def timetable_note_add(*, meeting, user, school, teacher, classes):
    """A coordinator (or the convener for a school of the district) notes the classes that
    clash with the meeting, for the convener to collect."""
    _open_meeting(meeting)
    _school_of(user, school)
    teacher, classes = (teacher or "").strip(), (classes or "").strip()
    if not teacher or not classes:
        raise AttendanceError("請填寫教師姓名與衝堂的課務（例如：週二第 2、3 節 六年三班資訊課）。")
    if len(teacher) > 60 or len(classes) > 300:
        raise AttendanceError("教師姓名最多 60 字，課務最多 300 字。")
    note = TimetableNote.objects.create(
        meeting=meeting, school=school, teacher=teacher, classes=classes, requested_by=user
    )
    audit.record("meetings.timetable_noted", actor=user, target=meeting, school_id=school.pk)
    return note


@transaction.atomic
def timetable_collect(*, note, user):
    """The convener has collected the note's timetable for the district (once)."""
    note = TimetableNote.objects.select_for_update().select_related("school").get(pk=note.pk)
    if not access.can_collect_timetables(user, note.school.district_id):
        raise AttendanceError("只有該分區的分區代表或教育局人員可以彙整課表。")
    if note.collected_at is not None:
        raise AttendanceError("這份課表已經彙整。")
    note.collected_at, note.collected_by = timezone.now(), user
    note.save(update_fields=["collected_at", "collected_by"])
    audit.record(
        "meetings.timetable_collected", actor=user, target=note.meeting_id, note_id=note.pk
    )
    return note


def timetable_notes(meeting, *, district_ids=None):
    qs = TimetableNote.objects.filter(meeting=meeting).select_related("school__district")
    if district_ids is not None:
        qs = qs.filter(school__district_id__in=district_ids)
    return qs


def districts_for_collecting(user):
    ids = access.absence_district_ids(user)
    qs = District.objects.order_by("position")
    return qs if ids is None else qs.filter(pk__in=ids)
