"""Reads for the minutes: what a user may see, one meeting's document, browsing and search.

Every function here runs a fixed number of queries whatever the size of a meeting (see the
query-count tests and tests/bench/bench_meetings.py)."""

import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from portal import access, rocdate

from . import hooks, rendering
from .models import Attachment, Meeting, Motion, ReportItem, SearchEntry

SEARCH_MIN_CHARS = 2
SEARCH_LIMIT = 100
# Moved whenever SearchEntry rows are rewritten (services.search_index_rebuild): cached result
# pages (views.search) are then never found again.
SEARCH_COUNTER = "meetings:search"
# Moved when a meeting is saved or deleted (apps.ready): the home block (the latest minutes, the
# next meeting) and the minutes list depend on it.
MEETINGS_COUNTER = "meetings:meetings"


def visible_meetings(user):
    """Coordinators see published minutes only; bureau staff see drafts too."""
    qs = Meeting.objects.select_related("series")
    if access.can_view_drafts(user):
        return qs
    return qs.filter(status=Meeting.Status.PUBLISHED)


can_view = access.can_view_meeting  # the rules live in portal/access.py
can_manage = access.can_manage_meetings


def meeting_document(meeting):
    """The rendered structure of one meeting: five queries (items, motions, attending schools,
    attachments, tracked tables – filled by tracking/ through hooks.minutes_tables), however
    long the minutes are."""
    items = list(ReportItem.objects.filter(meeting=meeting).select_related("division"))
    motions = list(Motion.objects.filter(meeting=meeting))
    attendees = list(meeting.attendees.select_related("district"))
    attachments = list(Attachment.objects.filter(meeting=meeting).prefetch_related("linked"))
    tables = hooks.minutes_tables(meeting)
    return rendering.build(
        meeting, items, motions, tables, attendees=attendees, attachments=attachments
    )


def years(user):
    """The ROC years that have minutes the user may see, newest first."""
    dates = visible_meetings(user).dates("held_on", "year", order="DESC")
    return [rocdate.roc_year(d) for d in dates]


def meetings_of_year(user, roc_year):
    year = roc_year + rocdate.ROC_OFFSET
    return visible_meetings(user).filter(held_on__year=year).order_by("-held_on", "-id")


def latest_published():
    return (
        Meeting.objects.filter(status=Meeting.Status.PUBLISHED)
        .select_related("series")
        .order_by("-held_on", "-id")
        .first()
    )


def upcoming(user, limit=20):
    """Meetings on or after today that `user` may know about. Bureau staff see every draft;
    everybody else sees published minutes and the drafts the bureau marked as announced
    (已公告: the date and place of the next meeting are told, the rest of a draft is not)."""
    qs = Meeting.objects.filter(held_on__gte=timezone.localdate())
    if not access.can_view_drafts(user):
        qs = qs.filter(Q(status=Meeting.Status.PUBLISHED) | Q(announced=True))
    return qs.select_related("series").order_by("held_on", "start_time", "id")[:limit]


# --- search --------------------------------------------------------------------------------


@dataclass
class Hit:
    meeting_id: int
    meeting_title: str
    held_on: object
    anchor: str
    label: str
    snippet: str  # safe HTML with <mark>

    @property
    def url(self):
        from django.urls import reverse

        return reverse("meetings:detail", args=[self.meeting_id]) + f"#{self.anchor}"


def clean_query(q):
    return re.sub(r"\s+", " ", (q or "").strip())[:100]


def search(q, *, limit=SEARCH_LIMIT):
    """Published minutes containing every word of `q` (a substring match, so two-character
    terms such as 資安 and names such as 黑快馬 are found – Chinese has no spaces to split
    words on). One query on the denormalised SearchEntry table."""
    q = clean_query(q)
    terms = [t for t in q.split(" ") if t]
    if not terms or len(q.replace(" ", "")) < SEARCH_MIN_CHARS:
        return []
    condition = Q(published=True)
    for term in terms:
        condition &= Q(text__icontains=term)
    rows = (
        SearchEntry.objects.filter(condition)
        .select_related("meeting")
        .only("meeting__title", "meeting_id", "held_on", "anchor", "label", "text")
        .order_by("-held_on", "meeting_id", "position")[:limit]
    )
    return [
        Hit(
            meeting_id=row.meeting_id,
            meeting_title=row.meeting.title,
            held_on=row.held_on,
            anchor=row.anchor,
            label=row.label,
            snippet=highlight(snippet(row.text, terms[0]), terms),
        )
        for row in rows
    ]


def snippet(text, term, width=60):
    """About `width` characters of text around the first match."""
    at = text.lower().find(term.lower())
    if at < 0 or len(text) <= width * 2:
        return text if len(text) <= width * 2 else text[: width * 2] + "…"
    start = max(0, at - width // 2)
    end = min(len(text), at + len(term) + width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def highlight(text, terms):
    """Escape, then wrap each match in <mark>: the query cannot inject markup either."""
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(f"<mark>{escape(m.group())}</mark>")
        last = m.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 – every piece went through escape()
