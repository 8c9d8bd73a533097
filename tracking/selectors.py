"""Reads for tracked items. `minutes_tables` fills meetings/' hooks.register_minutes_tables (the
minutes' page, .docx, text).

Lists never query per item: an item's age in meetings and its stale flag come from one list of
meeting dates (see `MeetingCalendar`)."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from meetings.models import Meeting
from meetings.selectors import visible_meetings
from portal import access
from portal.rocdate import format_short

from .models import Review, StatusUpdate, Subscription, TrackedItem
from .transitions import STATE_LABELS

NO_STATUS = "/"
# The cached list page (views.item_list) depends on this counter, moved whenever a tracked item,
# review, status update, change, division or meeting is saved or deleted (apps.ready).
LIST_COUNTER = "tracking:list"


# How the minutes number the rows of their two tables (the seed: 「1.」 in 上次會議追蹤列管事項,
# 「1」 in 新追蹤列管事項); the portal's 案號 is printed beside it
TABLE_TITLES = {"previous": "上次會議追蹤列管事項", "new": "新追蹤列管事項"}


def row_number(table, n):
    return f"{n}." if table == "previous" else str(n)


def minutes_tables(meeting):
    """The two tables of a meeting's minutes, in the official layout:
    {"previous": [{"number", "case_no", "subject", "previous_status", "current_status",
    "resolution"}], "new": [{"number", "case_no", "subject"}]}; `number` is the row's number as
    the minutes print it."""
    reviews = (
        Review.objects.filter(meeting=meeting)
        .select_related("item")
        .order_by("position", "item__case_no")
    )
    previous = [
        {
            "number": row_number("previous", n),
            "case_no": r.item.case_no,
            "subject": r.item.subject,
            "previous_status": r.previous_status or NO_STATUS,
            "current_status": r.current_status,
            "resolution": r.resolution,
        }
        for n, r in enumerate(reviews, start=1)
    ]
    opened = TrackedItem.objects.filter(origin_meeting=meeting).order_by("position", "case_no")
    new = [
        {"number": row_number("new", n), "case_no": i.case_no, "subject": i.subject}
        for n, i in enumerate(opened, start=1)
    ]
    return {"previous": previous, "new": new}


@dataclass(frozen=True)
class MinutesNumber:
    """Where an item last appears in minutes its reader may read, numbered as they print it."""

    meeting: Meeting
    table: str  # "previous" or "new"
    number: str  # 1. / 1

    @property
    def table_title(self):
        return TABLE_TITLES[self.table]

    @property
    def short(self):
        return f"{format_short(self.meeting.held_on)} 紀錄 {self.number}"


def _ranks(rows):
    """{(meeting id, item id): n} from (meeting id, item id) rows in each table's order."""
    ranks, counts = {}, {}
    for meeting_id, item_id in rows:
        counts[meeting_id] = counts.get(meeting_id, 0) + 1
        ranks[(meeting_id, item_id)] = counts[meeting_id]
    return ranks


def minutes_numbers(items, user):
    """{item id: MinutesNumber} for these items: the latest meeting that reviewed each (its row
    in 上次會議追蹤列管事項), else the meeting that opened it (its row in 新追蹤列管事項).
    Numbered as `minutes_tables` numbers them; only minutes `user` may read (no draft's row).
    At most three queries whatever the number of items."""
    by_id = {i.pk: i for i in items}
    if not by_id:
        return {}
    readable = visible_meetings(user)
    latest = {}  # item id → its latest reviewing meeting
    for review in (
        Review.objects.filter(item_id__in=by_id, meeting__in=readable)
        .select_related("meeting")
        .order_by("meeting__held_on", "meeting_id")
    ):
        latest[review.item_id] = review.meeting
    found = {}
    if latest:
        rows = (
            Review.objects.filter(meeting__in={m.pk for m in latest.values()})
            .order_by("meeting_id", "position", "item__case_no")
            .values_list("meeting_id", "item_id")
        )
        ranks = _ranks(rows)
        for item_id, meeting in latest.items():
            n = ranks[(meeting.pk, item_id)]
            found[item_id] = MinutesNumber(meeting, "previous", row_number("previous", n))
    openers = {
        i.origin_meeting_id
        for pk, i in by_id.items()
        if pk not in found and i.origin_meeting_id is not None
    }
    if openers:
        rows = (
            TrackedItem.objects.filter(origin_meeting__in=readable.filter(pk__in=openers))
            .order_by("origin_meeting_id", "position", "case_no")
            .values_list("origin_meeting_id", "pk")
        )
        for (_meeting, item_id), n in _ranks(rows).items():
            item = by_id.get(item_id)
            if item is not None and item_id not in found:
                found[item_id] = MinutesNumber(item.origin_meeting, "new", row_number("new", n))
    return found


@dataclass(frozen=True)
class MeetingCalendar:
    """The dates of the meetings held so far (one query), to count meetings since a date."""

    dates: tuple

    @classmethod
    def load(cls, today=None):
        today = today or timezone.localdate()
        dates = Meeting.objects.filter(held_on__lte=today).order_by("held_on")
        return cls(tuple(dates.values_list("held_on", flat=True)))

    def meetings_after(self, day):
        return len(self.dates) - bisect_right(self.dates, day)

    @property
    def stale_before(self):
        """An open item whose last update (or opening) is before this date has gone through
        TRACKING_STALE_AFTER_MEETINGS meetings without news; None when there were fewer."""
        n = getattr(settings, "TRACKING_STALE_AFTER_MEETINGS", 3)
        return self.dates[-n] if len(self.dates) >= n else None


def activity_day(item):
    if item.last_update_at is not None:
        return timezone.localtime(item.last_update_at).date()
    return item.opened_on


def show_published_state(item):
    """The item as its reader may see it: with a `shown_state` (TrackedItem.objects.visible_to)
    that differs from its state, a draft's decision moved it, and the reader sees it as the
    published minutes left it – still open. Only for display: never save such an item."""
    shown = getattr(item, "shown_state", None)
    if shown is not None and shown != item.state:
        item.state = shown
        if shown == TrackedItem.State.OPEN:  # a draft's 本案解列 or 併案
            item.closed_on = None
            item.merged_into = None
    return item


def decorate(items, calendar):
    """Show each item as its reader may see it (`show_published_state`), and set `age_meetings`
    and `is_stale`, without queries."""
    cutoff = calendar.stale_before
    for item in items:
        show_published_state(item)
        item.age_meetings = calendar.meetings_after(item.opened_on)
        item.is_stale = bool(item.is_open and cutoff is not None and activity_day(item) < cutoff)
        item.age_label = age_label(item)
    return items


def age_label(item):
    """「已列管」 in words: meetings held since it was opened; 新列管 before the first; nothing
    once it is closed or merged (its 解列 date says it)."""
    if not item.is_open:
        return ""
    if item.age_meetings:
        return f"{item.age_meetings} 次會議"
    if item.origin_meeting_id is None:
        return "匯入前即已列管"
    return "新列管"


def stale_q(calendar):
    """The stale flag as a query filter (same rule as `decorate`), on `item_list_queryset`."""
    cutoff = calendar.stale_before
    if cutoff is None:
        return Q(pk__in=[])
    start_of_cutoff = timezone.make_aware(datetime.combine(cutoff, time.min))
    return Q(shown_state=TrackedItem.State.OPEN) & (
        Q(last_update_at__isnull=True, opened_on__lt=cutoff) | Q(last_update_at__lt=start_of_cutoff)
    )


def needs_status_q():
    """Open items with no 辦理情形 since their last review (or since they were opened)."""
    return Q(state=TrackedItem.State.OPEN) & (
        Q(last_update_at__isnull=True)
        | Q(last_reviewed_on__isnull=False, last_update_at__date__lt=F("last_reviewed_on"))
    )


def item_list_queryset(user):
    """The items `user` may know of, with `shown_state` (filter on it, not on `state`)."""
    return (
        TrackedItem.objects.visible_to(user)
        .select_related("division", "origin_meeting")
        .annotate(
            update_count=Count("updates", distinct=True),
            # 最近辦理情形 in the list is what was done, not when
            last_update_text=Subquery(
                StatusUpdate.objects.filter(item=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("text")[:1]
            ),
        )
    )


def item_for_page(case_no, user):
    """The item with everything its page shows that `user` may see; DoesNotExist for an item
    they may not know of (one a draft opened)."""
    item = (
        TrackedItem.objects.visible_to(user)
        .select_related("division", "origin_meeting", "origin_motion", "merged_into", "follows_up")
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=Review.objects.visible_to(user)
                .select_related("meeting", "decided_by")
                .order_by("meeting__held_on", "id"),
            ),
            Prefetch(
                "updates",
                queryset=StatusUpdate.objects.select_related("author", "review__meeting"),
            ),
            Prefetch("changes", queryset=_changes(user)),
            Prefetch(
                "merged_items",
                queryset=TrackedItem.objects.visible_to(user).filter(
                    shown_state=TrackedItem.State.MERGED
                ),
            ),
            Prefetch("follow_ups", queryset=TrackedItem.objects.visible_to(user)),
        )
        .get(case_no=case_no)
    )
    show_published_state(item)
    linked = [i for i in (item.merged_into_id, item.follows_up_id) if i]
    if linked and not access.can_view_drafts(user):
        known = set(
            TrackedItem.objects.visible_to(user).filter(pk__in=linked).values_list("pk", flat=True)
        )
        if item.merged_into_id not in known:
            item.merged_into = None
        if item.follows_up_id not in known:
            item.follows_up = None
    return item


def _changes(user):
    from .models import Change

    return Change.objects.visible_to(user).select_related("actor", "meeting").order_by("at", "id")


# Order of the entries a meeting records on its day: the item opens, the meeting reviews it,
# then decides (a decision's state change); what people do between meetings follows.
_OPENED, _REVIEWED, _DECIDED, _BETWEEN = range(4)


def _when(moment):
    return timezone.localtime(moment) if moment is not None else None


def timeline(item):
    """Every review, update and change of the item, oldest first, as dicts for the template.

    Strictly in time order: what a meeting records (its review, the item's opening and the
    decision's state change) sits on the meeting's day, opening before review before decision,
    whenever it was typed in (an imported meeting's rows are recorded years later); everything
    else by its own time. A meeting's entries come before the rest of its day."""
    entries = []
    for review in item.reviews.all():
        moment = _when(review.decided_at or review.created_at)
        entries.append({"kind": "review", "review": review,
                        "sort": (review.meeting.held_on, _REVIEWED, moment, review.pk)})  # fmt: skip
    for update in item.updates.all():
        moment = _when(update.created_at)
        entries.append({"kind": "update", "update": update,
                        "sort": (moment.date(), _BETWEEN, moment, update.pk)})  # fmt: skip
    for change in item.changes.all():
        moment = _when(change.at)
        if change.meeting is not None:
            step = _OPENED if change.field == change.Field.STATE and not change.old else _DECIDED
            sort = (change.meeting.held_on, step, moment, change.pk)
        else:
            sort = (moment.date(), _BETWEEN, moment, change.pk)
        entries.append({"kind": "change", "change": change, "sort": sort,
                        "old_label": STATE_LABELS.get(change.old, change.old),
                        "new_label": STATE_LABELS.get(change.new, change.new)})  # fmt: skip
    entries.sort(key=lambda e: e["sort"])
    return entries


def is_subscribed(item, user):
    return Subscription.objects.filter(item=item, user=user).exists()


def meeting_status(meeting):
    """For the meeting page: its reviews with whether each 現辦理情形 is filled."""
    reviews = list(
        Review.objects.filter(meeting=meeting)
        .select_related("item__division")
        .order_by("position", "item__case_no")
    )
    filled = sum(1 for r in reviews if r.current_status.strip())
    return {"reviews": reviews, "filled": filled, "total": len(reviews)}


def recent_meetings(user, limit=6):
    return list(visible_meetings(user).order_by("-held_on", "-id")[:limit])
