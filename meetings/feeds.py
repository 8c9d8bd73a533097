"""Subscriptions: an Atom feed of published minutes and an iCalendar feed of coming meetings.

Both sit behind a per-user key in the URL (see views.feed_atom / feed_ics): feed readers and
calendar apps cannot log in. The .ics is written by hand (RFC 5545 is small for what we need)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from portal import rocdate
from portal.access import can_view_meeting

from .models import Convening, Meeting
from .selectors import upcoming


class PublishedMinutesFeed(Feed):
    feed_type = Atom1Feed
    title = "九大分區資訊組長聯席會議紀錄"
    subtitle = "新北市九大分區資訊組長專業社群：已發布的會議紀錄"

    def link(self):
        return "/meetings/"

    def items(self):
        return (
            Meeting.objects.filter(status=Meeting.Status.PUBLISHED)
            .select_related("series")
            .order_by("-published_at", "-id")[:30]
        )

    def item_title(self, item):
        return f"{item.title}紀錄"

    def item_description(self, item):
        # Atom's summary is type="html": readers decode it, so the text must be HTML-escaped.
        return escape(f"{rocdate.format_date(item.held_on)}，{item.place}。主持人：{item.chair}。")

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at


def _escape(text):
    return (
        str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def _fold(line):
    """RFC 5545 lines are at most 75 octets; continuation lines start with a space."""
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode("utf-8")) > 74:
            out.append(current)
            current = " " + ch
        else:
            current += ch
    out.append(current)
    return "\r\n".join(out)


def upcoming_calendar(request, user):
    """The coming meetings `user` may know about (selectors.upcoming): a coordinator's calendar
    never shows an unannounced draft, and an announced draft only by name, time and place."""
    host = settings.SITE_URL.split("://", 1)[-1]
    now = timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//NTPC IT coordinators//meetings//ZH-TW",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:九大分區資訊組長聯席會議",
        "X-WR-TIMEZONE:Asia/Taipei",
    ]
    tz = timezone.get_default_timezone()
    meetings = list(upcoming(user))
    cancelled = set(
        Convening.objects.filter(meeting__in=meetings, state=Convening.State.CANCELLED).values_list(
            "meeting_id", flat=True
        )
    )
    for meeting in meetings:
        lines += ["BEGIN:VEVENT", f"UID:meeting-{meeting.pk}@{host}",
                  f"DTSTAMP:{_utc(now)}"]  # fmt: skip
        if meeting.start_time:
            start = datetime.combine(meeting.held_on, meeting.start_time, tzinfo=tz)
            end_time = meeting.adjourned_time
            end = (
                datetime.combine(meeting.held_on, end_time, tzinfo=tz)
                if end_time and end_time > meeting.start_time
                else start + timedelta(hours=2)
            )
            lines += [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}"]
        else:
            lines += [
                f"DTSTART;VALUE=DATE:{meeting.held_on:%Y%m%d}",
                f"DTEND;VALUE=DATE:{meeting.held_on + timedelta(days=1):%Y%m%d}",
            ]
        lines.append(f"SUMMARY:{_escape(meeting.title)}")
        if meeting.place:
            lines.append(f"LOCATION:{_escape(meeting.place)}")
        if can_view_meeting(user, meeting):  # an announced draft's page would refuse them
            lines.append(f"URL:{settings.SITE_URL}{meeting.get_absolute_url()}")
        if meeting.pk in cancelled:
            lines.append("STATUS:CANCELLED")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _utc(dt):
    from datetime import UTC

    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
