"""Pages of attendance: replies before the meeting, the sign-in (the page shown at the meeting
with its QR code, and the page the code opens), the recorder's ticks, the printable 簽到表,
absences over a year and the timetable notes. Thin: gate, load, call, render."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal import access, rocdate
from portal.badinput import query_params
from portal.models import School

from . import attendance
from .attendance_forms import CodeQuery, ReplyForm, SignInForm, TimetableForm, YearQuery
from .attendance_models import SignIn, TimetableNote
from .convening_models import Convening
from .models import Meeting

staff_required = access.staff_required("只有教育局人員可以管理簽到。")


def _noticed(request, pk):
    """The meeting, to people who may read its agenda (everyone once the notice is out)."""
    meeting = get_object_or_404(Meeting, pk=pk)
    plan = Convening.objects.filter(meeting=meeting).first()
    access.require(
        request, access.can_view_agenda(request.user, plan), "這次會議尚未發布開會通知。"
    )
    return meeting, plan


@access.role_required
def replies(request, pk):
    """Each school (or the district's convener for it) answers who attends."""
    meeting, plan = _noticed(request, pk)
    schools = access.attendance_schools(request.user)
    if request.method == "POST":
        form = ReplyForm(request.POST)
        school = None
        if form.is_valid():
            school = schools.filter(pk=form.cleaned_data["school"]).first()
        if school is None:
            messages.error(request, "請選擇出席、代理出席或不克出席。")
        else:
            try:
                attendance.reply_set(
                    meeting=meeting, user=request.user, school=school,
                    answer=form.cleaned_data["answer"], attendee=form.cleaned_data["attendee"],
                    note=form.cleaned_data["note"],
                )  # fmt: skip
            except attendance.AttendanceError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已收到{school.name}的出席回覆。")
        return redirect("meetings:attendance_replies", pk=meeting.pk)
    latest = attendance.latest_replies(meeting)
    own = [
        (school, latest.get(school.pk), _reply_form(school, latest.get(school.pk)))
        for school in schools
    ]
    staff = access.is_staff(request.user)
    context = {
        "meeting": meeting,
        "plan": plan,
        "own": own,
        "staff": staff,
        "groups": attendance.sheet(meeting) if staff else None,
    }
    return render(request, "meetings/attendance/replies.html", context)


def _reply_form(school, reply):
    initial = {"school": school.pk}
    if reply is not None:
        initial.update(answer=reply.answer, attendee=reply.attendee, note=reply.note)
    return ReplyForm(initial=initial, auto_id=f"id_s{school.pk}_%s")


def signin_url(meeting, code):
    return f"{settings.SITE_URL}{reverse('meetings:signin', args=[meeting.pk])}?code={code}"


def qr_svg(url):
    """The sign-in link as an inline SVG QR code (segno); None when segno is not installed – the
    page then shows the link and the code, which work the same way."""
    try:
        import segno
    except ImportError:
        return None
    return segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff")


@staff_required
def signin_desk(request, pk):
    """Shown at the meeting: the QR code and the code, and the recorder's ticks."""
    meeting, plan = _noticed(request, pk)
    if request.method == "POST":
        # a school id that is no number or out of range ticks nothing (never an error page)
        ids = [int(v) for v in request.POST.getlist("school") if v.isdigit() and len(v) < 10]
        try:
            added, removed = attendance.sign_ins_set(
                meeting=meeting, user=request.user, schools=School.objects.filter(pk__in=ids)
            )
        except attendance.AttendanceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"已更新簽到：新增 {added} 校，取消 {removed} 校。")
        return redirect("meetings:signin_desk", pk=meeting.pk)
    now = timezone.now()
    code = attendance.signin_code(meeting.pk, now)
    url = signin_url(meeting, code)
    groups = attendance.sheet(meeting)
    context = {
        "meeting": meeting,
        "plan": plan,
        "code": code,
        "url": url,
        "qr": qr_svg(url),
        "expires": timezone.localtime(attendance.code_expires_at(now)),
        "minutes": attendance.CODE_MINUTES,
        "groups": groups,
        "counts": attendance.sheet_counts(groups),
    }
    return render(request, "meetings/attendance/desk.html", context)


@access.role_required
def signin(request, pk):
    """The page the QR code opens: the attendee signs in for the school."""
    meeting, plan = _noticed(request, pk)
    schools = access.attendance_schools(request.user)
    access.require(request, schools.exists(), "只有資訊組長與分區代表可以簽到。")
    latest = attendance.latest_replies(meeting)
    first = schools.first()
    reply = latest.get(first.pk) if first else None
    name = (reply.attendee if reply else "") or request.user.display_name
    initial = {"code": query_params(request, CodeQuery).get("code") or "", "name": name}
    form = SignInForm(request.POST or None, initial=initial, schools=schools)
    done = SignIn.objects.filter(meeting=meeting, school__in=schools).select_related("school")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            attendance.sign_in(
                meeting=meeting, user=request.user, school=data["school"], name=data["name"],
                code=data["code"],
            )  # fmt: skip
        except attendance.AttendanceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{data['school'].name}已簽到，謝謝。")
            return redirect("meetings:signin", pk=meeting.pk)
    context = {"meeting": meeting, "plan": plan, "form": form, "done": done}
    return render(request, "meetings/attendance/signin.html", context)


@access.role_required
def signin_sheet(request, pk):
    """The 簽到表, printable: with the minutes (drafts: bureau staff only)."""
    meeting = get_object_or_404(Meeting, pk=pk)
    access.require(
        request, access.can_view_meeting(request.user, meeting), "這份會議紀錄尚未發布。"
    )
    groups = attendance.sheet(meeting)
    context = {"meeting": meeting, "groups": groups, "counts": attendance.sheet_counts(groups)}
    return render(request, "meetings/attendance/sheet.html", context)


@access.role_required
def absences(request):
    """Absences per school over a ROC year: bureau staff all districts, a convener theirs."""
    district_ids = access.absence_district_ids(request.user)
    access.require(
        request, district_ids is None or bool(district_ids),
        "只有教育局人員與分區代表可以查看各校出缺席。",
    )  # fmt: skip
    this_year = rocdate.roc_year(timezone.localdate())
    year = query_params(request, YearQuery).get("year") or this_year
    if not 90 <= year <= this_year + 1:
        year = this_year
    meetings, groups = attendance.absences(year, district_ids=district_ids)
    context = {
        "year": year,
        "years": range(this_year, this_year - 5, -1),
        "meetings": meetings,
        "groups": groups,
    }
    return render(request, "meetings/attendance/absences.html", context)


@access.role_required
def timetables(request, pk):
    """Timetable notes (課表): coordinators add theirs, the convener collects the district's."""
    meeting, plan = _noticed(request, pk)
    schools = access.attendance_schools(request.user)
    form = TimetableForm(request.POST or None, schools=schools)
    if request.method == "POST":
        access.require(request, schools.exists(), "只有資訊組長與分區代表可以提出課表需求。")
        if form.is_valid():
            data = form.cleaned_data
            try:
                attendance.timetable_note_add(
                    meeting=meeting, user=request.user, school=data["school"],
                    teacher=data["teacher"], classes=data["classes"],
                )  # fmt: skip
            except attendance.AttendanceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "已送出課表需求，分區代表會彙整後交教育局。")
                return redirect("meetings:timetables", pk=meeting.pk)
    district_ids = access.absence_district_ids(request.user)
    notes = attendance.timetable_notes(meeting, district_ids=district_ids)
    if district_ids is not None and not district_ids:  # a coordinator: their own schools' notes
        notes = attendance.timetable_notes(meeting).filter(school__in=schools)
    context = {
        "meeting": meeting,
        "plan": plan,
        "form": form if schools.exists() else None,
        "notes": notes,
        "can_collect": district_ids is None or bool(district_ids),
    }
    return render(request, "meetings/attendance/timetables.html", context)


@require_POST
@access.role_required
def timetable_collect(request, pk):
    note = get_object_or_404(TimetableNote.objects.select_related("school"), pk=pk)
    access.require(
        request, access.can_collect_timetables(request.user, note.school.district_id),
        "只有該分區的分區代表或教育局人員可以彙整課表。",
    )  # fmt: skip
    try:
        attendance.timetable_collect(note=note, user=request.user)
    except attendance.AttendanceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已彙整{note.school.name} {note.teacher} 的課表。")
    return redirect("meetings:timetables", pk=note.meeting_id)
