"""Writes for the meeting before it happens: plan it, publish the notice (開會通知) with the
agenda, announce a change or the cancellation. Each announcement is a row, e-mailed once to every
coordinator and convener (in Chinese, ROC dates, an .ics attached, the portal's link)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal import access, audit, mail, rocdate
from portal.models import Role

from . import feeds, proposals, services
from .agenda import agenda_of
from .convening_models import Announcement, AnnouncementDelivery, Convening
from .models import Meeting
from .proposal_models import Proposal

log = logging.getLogger(__name__)

# What a change announcement names, in the order it lists them.
ANNOUNCED_FIELDS = {
    "title": "會議名稱",
    "held_on": "會議日期",
    "start_time": "開始時間",
    "place": "會議地點",
    "chair": "主持人",
    "recorder": "紀錄",
    "proposals_due": "提案截止",
}


class ConveningError(ValueError):
    """A step the meeting's state does not allow; the message is Chinese."""


def convening_of(meeting):
    convening, _ = Convening.objects.get_or_create(meeting=meeting)
    return convening


def _shown(name, value):
    if value is None or value == "":
        return "（未定）"
    if name == "held_on":
        return rocdate.format_date(value)
    if name == "start_time":
        return rocdate.format_time(value)
    if name == "proposals_due":
        return rocdate.format_datetime(value)
    return str(value)


@transaction.atomic
def meeting_plan(*, user, title, held_on, start_time=None, place="", chair="", recorder="",
                 proposals_due=None):  # fmt: skip
    """A coming meeting: a draft (nothing of it shown to members) and its convening; proposals
    carried over from earlier meetings come back to it."""
    meeting = services.meeting_create(
        user=user, title=title, held_on=held_on, start_time=start_time, place=place,
        chair=chair, recorder=recorder,
    )  # fmt: skip
    Convening.objects.create(meeting=meeting, proposals_due=proposals_due)
    proposals.proposals_carry_over(meeting=meeting, user=user)
    audit.record("meetings.planned", actor=user, target=meeting, meeting_id=meeting.pk)
    return meeting


def _announce(meeting, kind, user, *, changes=(), reason=""):
    last = meeting.announcements.order_by("-sequence").values_list("sequence", flat=True).first()
    announcement = Announcement.objects.create(
        meeting=meeting,
        kind=kind,
        sequence=0 if last is None else last + 1,
        changes=[list(c) for c in changes],
        reason=reason,
        sent_by=user,
    )
    audit.record(
        f"meetings.announced_{kind}", actor=user, target=meeting, meeting_id=meeting.pk,
        announcement_id=announcement.pk,
    )  # fmt: skip
    from .tasks import send_announcement

    announcement_id = announcement.pk
    transaction.on_commit(lambda: send_announcement.delay(announcement_id))
    return announcement


@transaction.atomic
def notice_publish(*, meeting, user):
    """The notice goes to every coordinator and convener; from now on they see the agenda."""
    convening = Convening.objects.select_for_update().get_or_create(meeting=meeting)[0]
    if convening.is_cancelled:
        raise ConveningError("這次會議已取消，不能發布開會通知。")
    if convening.is_noticed:
        raise ConveningError("開會通知已經發布；會議資訊有變更時請直接修改，系統會寄出變更通知。")
    if meeting.is_published:
        raise ConveningError("這次會議的紀錄已發布，不必再發開會通知。")
    if not (meeting.start_time and meeting.place):
        raise ConveningError("請先填寫開始時間與會議地點，再發布開會通知。")
    convening.state = Convening.State.NOTICED
    convening.noticed_at = timezone.now()
    convening.save(update_fields=["state", "noticed_at"])
    # the coordinators' calendars show it from now on (selectors.upcoming)
    Meeting.objects.filter(pk=meeting.pk).update(announced=True, updated_at=timezone.now())
    return _announce(meeting, Announcement.Kind.NOTICE, user)


@transaction.atomic
def convening_update(*, meeting, user, changes, reason=""):
    """Change when, where, who or the proposals' deadline. Once the notice is out, a change is
    announced (the reason is then required); nothing changes on cancelled or published ones."""
    convening = Convening.objects.select_for_update().get_or_create(meeting=meeting)[0]
    meeting = Meeting.objects.get(pk=meeting.pk)
    if convening.is_cancelled:
        raise ConveningError("這次會議已取消，不能再修改。")
    if meeting.is_published:
        raise ConveningError("會議紀錄已發布，請在紀錄頁以更正修改。")
    changed = []
    for name, value in changes.items():
        if name not in ANNOUNCED_FIELDS:
            raise ConveningError(f"不能修改欄位 {name}。")
        old = convening.proposals_due if name == "proposals_due" else getattr(meeting, name)
        if old != value:
            changed.append((name, old, value))
    if not changed:
        return None
    if convening.is_noticed and not (reason or "").strip():
        raise ConveningError("開會通知已發布，修改會寄出變更通知，請填寫變更說明。")
    header = {name: value for name, _, value in changed if name != "proposals_due"}
    if header:
        services.meeting_update(meeting=meeting, user=user, changes=header)
    if any(name == "proposals_due" for name, _, _ in changed):
        convening.proposals_due = changes["proposals_due"]
        convening.save(update_fields=["proposals_due"])
    if not convening.is_noticed:
        return None
    shown = [(ANNOUNCED_FIELDS[n], _shown(n, old), _shown(n, new)) for n, old, new in changed]
    return _announce(
        meeting, Announcement.Kind.CHANGE, user, changes=shown, reason=reason.strip()[:300]
    )


@transaction.atomic
def meeting_cancel(*, meeting, user, reason):
    """Call the meeting off. Once the notice is out, everybody is told (with the reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise ConveningError("請填寫取消原因。")
    convening = Convening.objects.select_for_update().get_or_create(meeting=meeting)[0]
    if convening.is_cancelled:
        raise ConveningError("這次會議已經取消。")
    if meeting.is_published:
        raise ConveningError("會議紀錄已發布，不能取消會議。")
    convening.state = Convening.State.CANCELLED
    convening.cancelled_at = timezone.now()
    convening.save(update_fields=["state", "cancelled_at"])
    audit.record("meetings.cancelled", actor=user, target=meeting, reason=reason)
    if not convening.is_noticed:
        return None
    return _announce(meeting, Announcement.Kind.CANCELLATION, user, reason=reason[:300])


# --- sending -----------------------------------------------------------------------------------


def announcement_recipients():
    """Every active coordinator and convener with an address, once each. The notice is the
    official call to the meeting, so it does not follow the minutes' opt-in."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__role__in=[Role.COORDINATOR, Role.CONVENER])
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def announcement_ics(announcement):
    """The meeting as one iCalendar event: same UID as the calendar feed, SEQUENCE growing with
    each announcement, METHOD:CANCEL for the cancellation – calendar apps update the event."""
    meeting = announcement.meeting
    host = settings.SITE_URL.split("://", 1)[-1]
    cancel = announcement.kind == Announcement.Kind.CANCELLATION
    tz = timezone.get_default_timezone()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//NTPC IT coordinators//meetings//ZH-TW",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancel else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:meeting-{meeting.pk}@{host}",
        f"SEQUENCE:{announcement.sequence}",
        f"DTSTAMP:{feeds._utc(announcement.sent_at)}",
    ]
    if meeting.start_time:
        start = datetime.combine(meeting.held_on, meeting.start_time, tzinfo=tz)
        end = start + timedelta(hours=2)
        if meeting.adjourned_time and meeting.adjourned_time > meeting.start_time:
            end = datetime.combine(meeting.held_on, meeting.adjourned_time, tzinfo=tz)
        lines += [f"DTSTART:{feeds._utc(start)}", f"DTEND:{feeds._utc(end)}"]
    else:
        lines += [
            f"DTSTART;VALUE=DATE:{meeting.held_on:%Y%m%d}",
            f"DTEND;VALUE=DATE:{meeting.held_on + timedelta(days=1):%Y%m%d}",
        ]
    lines.append(f"SUMMARY:{feeds._escape(meeting.title)}")
    if meeting.place:
        lines.append(f"LOCATION:{feeds._escape(meeting.place)}")
    lines.append(f"URL:{settings.SITE_URL}{reverse('meetings:agenda', args=[meeting.pk])}")
    lines.append(f"STATUS:{'CANCELLED' if cancel else 'CONFIRMED'}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(feeds._fold(line) for line in lines) + "\r\n"


def announcement_send(*, announcement_id):
    """E-mail the announcement to each recipient once: a delivery row is claimed by a conditional
    UPDATE before sending and released if sending fails (the task then retries)."""
    announcement = Announcement.objects.select_related("meeting__series", "meeting__convening").get(
        pk=announcement_id
    )
    meeting = announcement.meeting
    context = {
        "announcement": announcement,
        "meeting": meeting,
        "convening": convening_of(meeting),
        "agenda": agenda_of(meeting),
        "path": reverse("meetings:agenda", args=[meeting.pk]),
    }
    ics = announcement_ics(announcement)
    sent = 0
    for user in announcement_recipients():
        delivery, _ = AnnouncementDelivery.objects.get_or_create(
            announcement=announcement, user=user, defaults={"email": user.email}
        )
        claimed = AnnouncementDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
        if claimed != 1:
            continue
        try:
            message = mail.render_email("meetings_announcement", {**context, "user": user},
                                        [delivery.email])  # fmt: skip
            message.attach("meeting.ics", ics, "text/calendar; charset=utf-8")
            message.send(fail_silently=False)
        except Exception:
            AnnouncementDelivery.objects.filter(pk=delivery.pk).update(sent_at=None)
            raise
        sent += 1
    log.info("announcement %s: %s sent", announcement_id, sent)
    return sent


@transaction.atomic
def division_report_add(*, meeting, user, division, text):
    """A division's staff fill its 業務報告 slot before the meeting: each non-empty line becomes
    one item of the draft minutes' report (so the recorder finds them there)."""
    if not access.can_update_division_work(user, division):
        raise ConveningError(f"只有{division.name}的人員可以填寫這一組的業務報告。")
    if meeting.is_published:
        raise ConveningError("會議紀錄已發布，業務報告請在紀錄頁以更正修改。")
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise ConveningError("請輸入業務報告內容（每行一項）。")
    return [
        services.report_item_add(meeting=meeting, user=user, division=division, text=line)
        for line in lines
    ]


# --- after the meeting: the agenda becomes the draft minutes ------------------------------------


def proposal_explanation(proposal):
    """說明, and 辦法 on its own line, as minutes write them (the importer reads 辦法 as part of
    說明)."""
    parts = [proposal.explanation.strip()]
    if proposal.method.strip():
        parts.append(f"辦法：{proposal.method.strip()}")
    return "\n".join(p for p in parts if p)


@transaction.atomic
def minutes_from_agenda(*, meeting, user):
    """The recorder opens the agenda as the draft minutes: the meeting is already the draft (the
    carried-over tracked items and the divisions' reports are in it); the accepted proposals
    become its 提案討論 motions, in the agenda's order, each waiting for its 決議. Running it again
    adds only proposals accepted since; a proposal's motion is never made twice."""
    convening = Convening.objects.select_for_update().get_or_create(meeting=meeting)[0]
    meeting = Meeting.objects.get(pk=meeting.pk)
    if convening.is_cancelled:
        raise ConveningError("這次會議已取消，沒有會議紀錄。")
    if meeting.is_published:
        raise ConveningError("這次會議的紀錄已發布。")
    if not convening.is_noticed:
        raise ConveningError("開會通知尚未發布：議程還沒有公開，不能轉為會議紀錄。")
    accepted = (
        Proposal.objects.select_for_update()
        .filter(meeting=meeting, state=Proposal.State.ACCEPTED, motion__isnull=True)
        .select_related("district")
        .order_by("position", "id")
    )
    made = []
    for proposal in accepted:
        motion = services.motion_add(
            meeting=meeting, user=user, kind="proposal", subject=proposal.subject,
            explanation=proposal_explanation(proposal), proposer=proposal.district.name,
        )  # fmt: skip
        proposal.motion = motion
        proposal.save(update_fields=["motion", "updated_at"])
        made.append(motion)
    if not convening.minutes_opened:
        convening.minutes_opened_at = timezone.now()
        convening.save(update_fields=["minutes_opened_at"])
        if not meeting.attendance_note:
            services.meeting_update(
                meeting=meeting, user=user, changes={"attendance_note": "詳簽到表"}
            )
    audit.record(
        "meetings.minutes_opened", actor=user, target=meeting, meeting_id=meeting.pk,
        motions=[m.pk for m in made],
    )  # fmt: skip
    return made
