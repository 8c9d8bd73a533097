"""Writes for tracked items (列管事項). Every write runs in one transaction; state changes go through
`transitions.check` and leave a `Change` row.

Filled into meetings/' hooks (apps.ready): `minutes_imported` (inside the importer's
transaction) and `meeting_saved` (after a meeting is created, imported or its motions change).
"""

import logging
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from meetings.hooks import ImportRefused
from meetings.models import Meeting, MeetingSeries, Motion
from portal import access
from portal.audit import record
from portal.mail import send_email
from portal.models import Membership, Role

from . import matching, transitions
from .models import Change, Reminder, Review, StatusUpdate, Subscription, TrackedItem, UpdateNotice
from .transitions import TransitionError

log = logging.getLogger("tracking")

NO_STATUS = "/"  # what the minutes print for "no previous status"


class TrackingError(ValueError):
    """A refused write; str() is a message in Chinese."""


class MinutesImportError(TrackingError, ImportRefused):
    """The tracking tables of imported minutes do not fit; `errors` name the table and row.
    An ImportRefused: meetings' importer then saves nothing and shows the errors."""


# --- case numbers ----------------------------------------------------------------------------


def case_prefix(meeting):
    """`108-09-` for a meeting held in September 2019 (民國 108 年)."""
    return f"{meeting.held_on.year - 1911}-{meeting.held_on.month:02d}-"


def _next_case_no(meeting, *, carried=False):
    """Sequence numbers per meeting month: 108-09-01, 108-09-02…; items that the portal first met
    in an imported review table (opened before the portal kept records) get 108-09-R01…"""
    prefix = case_prefix(meeting) + ("R" if carried else "")
    taken = TrackedItem.objects.filter(case_no__startswith=prefix).values_list("case_no", flat=True)
    numbers = [int(c[len(prefix) :]) for c in taken if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"


# --- small shared writes ---------------------------------------------------------------------


def _change(item, *, field, old, new, user=None, reason="", meeting=None, at=None):
    return Change.objects.create(
        item=item,
        field=field,
        old=str(old or "")[:200],
        new=str(new or "")[:200],
        reason=reason,
        actor=user,
        meeting=meeting,
        at=at or timezone.now(),
    )


def _open_item(*, meeting, subject, motion=None, user=None, reason="", carried=False):
    item = TrackedItem.objects.create(
        case_no=_next_case_no(meeting, carried=carried),
        subject=subject.strip(),
        origin_meeting=None if carried else meeting,
        origin_motion=motion,
        opened_on=meeting.held_on,
        state=TrackedItem.State.OPEN,
    )
    _change(
        item,
        field=Change.Field.STATE,
        old="",
        new=TrackedItem.State.OPEN,
        user=user,
        reason=reason,
        meeting=meeting,
    )
    return item


def _set_subject(item, subject, *, user=None, reason="", meeting=None):
    subject = subject.strip()
    if subject and subject != item.subject:
        _change(
            item,
            field=Change.Field.SUBJECT,
            old=item.subject,
            new=subject,
            user=user,
            reason=reason,
            meeting=meeting,
        )
        item.subject = subject
        item.save(update_fields=["subject"])


def _compose_status(texts):
    """The 現辦理情形 a meeting prints, from the updates posted since the last meeting."""
    texts = [t.strip() for t in texts if t.strip()]
    if len(texts) <= 1:
        return texts[0] if texts else ""
    return "\n".join(f"{n}、{t}" for n, t in enumerate(texts, start=1))


def _refresh_current_status(review):
    texts = list(review.updates.order_by("created_at", "id").values_list("text", flat=True))
    review.current_status = _compose_status(texts)
    review.save(update_fields=["current_status"])


def _lock_meeting(meeting):
    """Serialise writers of one meeting's tables (case numbers, positions)."""
    type(meeting).objects.select_for_update().filter(pk=meeting.pk).values_list("pk").first()


def _motion_subject(motion):
    subject = motion.subject.strip()
    for tail in ("，提請討論。", "，提請討論", "提請討論。"):
        if subject.endswith(tail):
            return subject[: -len(tail)] + "。"
    return subject


def _tracked_motions(meeting):
    motions = [m for m in meeting.motions.all() if transitions.asks_tracking(m.resolution)]
    kind_order = {Motion.Kind.PROPOSAL: 0, Motion.Kind.EXTEMPORE: 1}
    return sorted(motions, key=lambda m: (kind_order.get(m.kind, 9), m.position, m.pk))


# --- decisions -------------------------------------------------------------------------------


def _apply_decision(item, review, code, *, target=None, user=None, reason=""):
    """Move `item` (locked) as the table says and record it; `review` already holds the texts."""
    d = transitions.check(
        code,
        item.state,
        target=target.case_no if target else None,
        target_state=target.state if target else None,
        item_case_no=item.case_no,
    )
    now = timezone.now()
    review.decision = d.code
    review.decided_by = user
    review.decided_at = now
    review.save(update_fields=["decision", "decided_by", "decided_at", "resolution"])
    held_on = review.meeting.held_on
    fields = ["last_reviewed_on"]
    if item.last_reviewed_on is None or held_on > item.last_reviewed_on:
        item.last_reviewed_on = held_on
    if d.to_state != item.state:
        _change(
            item,
            field=Change.Field.STATE,
            old=item.state,
            new=d.to_state,
            user=user,
            reason=reason or review.resolution,
            meeting=review.meeting,
            at=now,
        )
        item.state = d.to_state
        fields.append("state")
        if d.to_state != TrackedItem.State.OPEN:
            item.closed_on = held_on
            fields.append("closed_on")
        if d.needs_target:
            item.merged_into = target
            fields.append("merged_into")
    item.save(update_fields=fields)
    return d


def review_decide(
    *, review, decision, user=None, resolution="", current_status=None, merge_into=""
):
    """Record the meeting's decision on one reviewed item (繼續列管 / 本案解列 / 併案). The
    review's texts are frozen from then on."""
    with transaction.atomic():
        item = TrackedItem.objects.select_for_update().get(pk=review.item_id)
        review = Review.objects.select_for_update().select_related("meeting").get(pk=review.pk)
        if review.is_decided:
            raise TrackingError(
                f"{review.meeting.title} 已對 {item.case_no} 作成決議，會議紀錄不再更改。"
            )
        target = None
        merge_into = (merge_into or "").strip()
        if merge_into:
            target = TrackedItem.objects.select_for_update().filter(case_no=merge_into).first()
            if target is None:
                raise TransitionError(f"找不到案號 {merge_into}。")
        d = transitions.decision(decision)  # refuses codes outside the table before any write
        if current_status is not None:
            review.current_status = current_status.strip()
            review.save(update_fields=["current_status"])
        review.resolution = (resolution or "").strip() or d.default_resolution(
            target.case_no if target else None
        )
        _apply_decision(item, review, d.code, target=target, user=user)
    record(
        "tracking.decided",
        actor=user,
        target=item.case_no,
        meeting=review.meeting_id,
        decision=d.code,
    )
    return review


# --- meetings --------------------------------------------------------------------------------


def meeting_saved(*, meeting, user=None):
    """After a meeting is created, imported or its motions change: open items for motions whose
    決議 asks for tracking, and carry every still-open item into its 上次會議追蹤列管事項.
    Idempotent: running it twice adds nothing."""
    with transaction.atomic():
        _lock_meeting(meeting)
        opened = _open_items_for_motions(meeting, user=user)
        carried = _carry_over(meeting)
    if opened or carried:
        record(
            "tracking.meeting_saved",
            actor=user,
            target=str(meeting),
            opened=[i.case_no for i in opened],
            carried=[r.item.case_no for r in carried],
        )
    return {"opened": opened, "carried": carried}


def _open_items_for_motions(meeting, *, user=None):
    opened = []
    unlinked = list(TrackedItem.objects.filter(origin_meeting=meeting, origin_motion__isnull=True))
    for motion in _tracked_motions(meeting):
        if TrackedItem.objects.filter(origin_motion=motion).exists():
            continue
        # A motion re-created by a re-import finds the item its predecessor opened.
        twin = next(
            (
                i
                for i in unlinked
                if max(
                    matching.similarity(i.subject, motion.subject),
                    matching.similarity(i.subject, motion.resolution),
                )
                >= 0.6
            ),
            None,
        )
        if twin is not None:
            twin.origin_motion = motion
            twin.save(update_fields=["origin_motion"])
            unlinked.remove(twin)
            continue
        opened.append(
            _open_item(
                meeting=meeting,
                subject=_motion_subject(motion),
                motion=motion,
                user=user,
                reason=motion.resolution,
            )
        )
    return opened


def _carry_over(meeting):
    """Fill the meeting's 上次會議追蹤列管事項 with every item still open.

    Skipped for a meeting whose tables came from an imported document (the document is the
    record) and for a meeting older than another one (today's open items were not open then)."""
    if meeting.tracking_reviews.filter(source=Review.Source.IMPORT).exists():
        return []
    if Meeting.objects.filter(held_on__gt=meeting.held_on).exists():
        return []
    items = list(
        TrackedItem.objects.select_for_update()
        .filter(state=TrackedItem.State.OPEN, opened_on__lt=meeting.held_on)
        .exclude(reviews__meeting=meeting)
        .order_by("opened_on", "case_no")
    )
    if not items:
        return []
    last_status = {}
    for item_id, text in (
        Review.objects.filter(item__in=items, meeting__held_on__lt=meeting.held_on)
        .exclude(current_status="")
        .order_by("meeting__held_on", "id")
        .values_list("item_id", "current_status")
    ):
        last_status[item_id] = text  # the latest wins
    position = max(meeting.tracking_reviews.values_list("position", flat=True), default=0)
    created = []
    for item in items:
        position += 1
        review = Review.objects.create(
            item=item,
            meeting=meeting,
            position=position,
            previous_status=last_status.get(item.pk, NO_STATUS),
            source=Review.Source.CARRY_OVER,
        )
        pending = StatusUpdate.objects.filter(item=item, review__isnull=True)
        if pending.update(review=review):
            _refresh_current_status(review)
        created.append(review)
    return created


def meeting_create_next(*, held_on, title="", place="", user=None):
    """Create the next meeting (a draft) of the latest meeting's series and carry the open items
    into it."""
    latest = Meeting.objects.order_by("-held_on", "-id").first()
    if latest is not None and held_on <= latest.held_on:
        raise TrackingError(
            f"新會議的日期必須晚於最近一次會議（{latest.title}，"
            f"{latest.held_on.year - 1911}/{latest.held_on.month}/{latest.held_on.day}）。"
        )
    if latest is not None:
        series = latest.series
    else:
        series, _ = MeetingSeries.objects.get_or_create(
            name="九大分區資訊組長聯席會議", defaults={"organiser": "新北市政府教育局"}
        )
    roc = held_on.year - 1911
    with transaction.atomic():
        meeting = Meeting.objects.create(
            series=series,
            title=title.strip() or f"{roc} 年度 {held_on.month} 月份聯席會議",
            held_on=held_on,
            place=place or (latest.place if latest else ""),
            created_by=user,
        )
        result = meeting_saved(meeting=meeting, user=user)
    record("tracking.meeting_created", actor=user, target=str(meeting), held_on=str(held_on))
    return meeting, result


# --- importing minutes -----------------------------------------------------------------------


def _validate_import(tracked_items, new_tracked_items):
    errors, parsed = [], []
    for n, row in enumerate(tracked_items, start=1):
        where = f"上次會議追蹤列管事項第 {n} 列"
        subject = (row.get("subject") or "").strip()
        if not subject:
            errors.append(f"{where}「案由」是空白的。")
        code = target = None
        try:
            code, target = transitions.parse_resolution(row.get("resolution"))
        except TransitionError as exc:
            errors.append(f"{where}「決議」：{exc}")
        if code == "merge" and not target:
            errors.append(f"{where}「決議」：併案須寫明併入的案號（例如 108-09-01）。")
        parsed.append({**row, "subject": subject, "code": code, "target": target})
    for n, row in enumerate(new_tracked_items, start=1):
        if not (row.get("subject") or "").strip():
            errors.append(f"新追蹤列管事項第 {n} 列「案由」是空白的。")
    return errors, parsed


def minutes_import_apply(*, meeting, tracked_items, new_tracked_items, user=None):
    """Called by meetings' importer inside its transaction with the parsed tables:
    tracked_items: [{"case_no", "subject", "previous_status", "current_status", "resolution"}]
    new_tracked_items: [{"case_no", "subject"}].

    Validates every row first (MinutesImportError names the table and row), then creates or
    matches items: new rows are paired with the motions whose 決議 asks for tracking, reviewed
    rows with existing items (by case number, then wording); decisions go through the table.
    Running it again with the same tables changes nothing."""
    errors, parsed = _validate_import(tracked_items, new_tracked_items)
    if errors:
        raise MinutesImportError(errors)
    with transaction.atomic():
        _lock_meeting(meeting)
        new_items = _import_new_items(meeting, new_tracked_items, user=user)
        reviews = _import_reviews(meeting, parsed, user=user)
    return {"new": new_items, "reviews": reviews}


def minutes_imported(*, meeting, result, user=None):
    """meetings' import step (hooks.register_import_step): the two tables of the parsed minutes."""
    return minutes_import_apply(
        meeting=meeting,
        tracked_items=[dict(item) for item in result.tracked_items],
        new_tracked_items=[dict(item) for item in result.new_tracked_items],
        user=user,
    )


def _import_new_items(meeting, rows, *, user=None):
    motions = _tracked_motions(meeting)
    subjects = [(r.get("subject") or "").strip() for r in rows]
    by_motion = matching.pair(subjects, motions, lambda m: [m.subject, m.resolution])
    existing = list(TrackedItem.objects.filter(origin_meeting=meeting).order_by("case_no"))
    items = []
    for i, subject in enumerate(subjects):
        motion = motions[by_motion[i]] if i in by_motion else None
        item = None
        if motion is not None:
            item = next((e for e in existing if e.origin_motion_id == motion.pk), None)
        if item is None:  # re-import, or a motion re-created by the importer
            item = next(
                (
                    e
                    for e in existing
                    if e not in items
                    and (motion is None or e.origin_motion_id is None)
                    and matching.similarity(e.subject, subject) >= 0.9
                ),
                None,
            )
            if item is not None and motion is not None:
                item.origin_motion = motion
                item.save(update_fields=["origin_motion"])
        if item is None:
            item = _open_item(
                meeting=meeting,
                subject=subject,
                motion=motion,
                user=user,
                reason=motion.resolution if motion else "會議紀錄匯入：新追蹤列管事項",
            )
            existing.append(item)
        else:
            # the minutes' own wording of the item wins over the motion's 案由
            _set_subject(item, subject, user=user, reason="會議紀錄匯入", meeting=meeting)
        items.append(item)
    return items


def _match_reviewed(meeting, row, claimed):
    """The item a reviewed row speaks of: by our case number, by an earlier import of this
    meeting, by an item still open before this meeting; None when the portal never saw it."""
    case_no = (row.get("case_no") or "").strip()
    if transitions.CASE_NO_RE.fullmatch(case_no):
        item = TrackedItem.objects.filter(case_no=case_no).first()
        if item is not None:
            return item
    candidates = [
        r.item for r in meeting.tracking_reviews.select_related("item") if r.item_id not in claimed
    ]
    candidates += [
        i
        for i in TrackedItem.objects.filter(
            state=TrackedItem.State.OPEN, opened_on__lt=meeting.held_on
        )
        if i.pk not in claimed
    ]
    best, best_score = None, 0.0
    for item in candidates:
        score = matching.similarity(item.subject, row["subject"])
        if score > best_score:
            best, best_score = item, score
    return best if best_score >= 0.6 else None


def _import_reviews(meeting, rows, *, user=None):
    claimed, reviews = set(), []
    for n, row in enumerate(rows, start=1):
        where = f"上次會議追蹤列管事項第 {n} 列"
        item = _match_reviewed(meeting, row, claimed)
        if item is None:
            item = _open_item(
                meeting=meeting,
                subject=row["subject"],
                user=user,
                reason="會議紀錄匯入：匯入前即已列管",
                carried=True,
            )
        item = TrackedItem.objects.select_for_update().get(pk=item.pk)
        claimed.add(item.pk)
        review, _ = Review.objects.get_or_create(item=item, meeting=meeting)
        review.position = n
        review.source = Review.Source.IMPORT
        if review.is_decided:
            if review.decision != row["code"]:
                raise MinutesImportError(
                    [
                        f"{where}：{item.case_no} 在本次會議已決議「"
                        f"{transitions.DECISIONS[review.decision].label}」，與匯入的決議不同。"
                    ]
                )
            review.save(update_fields=["position", "source"])
            reviews.append(review)
            continue
        review.previous_status = (row.get("previous_status") or "").strip() or NO_STATUS
        review.current_status = (row.get("current_status") or "").strip()
        review.resolution = (row.get("resolution") or "").strip()
        review.save()
        if row["code"]:
            target = None
            if row["target"]:
                target = TrackedItem.objects.filter(case_no=row["target"]).first()
                if target is None:
                    raise MinutesImportError(
                        [f"{where}「決議」：找不到要併入的案號 {row['target']}。"]
                    )
            try:
                _apply_decision(item, review, row["code"], target=target, user=user)
            except TransitionError as exc:
                raise MinutesImportError([f"{where}「決議」：{exc}"]) from None
        reviews.append(review)
    # the document is the record: carried-over rows it does not list leave this meeting's table
    for stale in meeting.tracking_reviews.filter(
        source=Review.Source.CARRY_OVER, decided_at__isnull=True
    ).exclude(item_id__in=claimed):
        stale.updates.update(review=None)
        stale.delete()
    return reviews


# --- between meetings ------------------------------------------------------------------------


def status_update_post(*, item, user, text):
    """A 辦理情形 by bureau staff of the responsible division. Append-only, under the item's row
    lock, so two people saving at once both keep theirs and the pending 現辦理情形 lists both."""
    text = (text or "").strip()
    if not text:
        raise TrackingError("請填寫辦理情形，空白的辦理情形不會儲存。")
    if not access.can_update_division_work(user, item.division):
        raise PermissionDenied(f"只有{item.division or '教育局'}的承辦人員可以填報本案的辦理情形。")
    with transaction.atomic():
        item = TrackedItem.objects.select_for_update().get(pk=item.pk)
        if not item.is_open:
            raise TrackingError(f"{item.case_no} 已{item.get_state_display()}，不再填報辦理情形。")
        pending = item.reviews.filter(decided_at__isnull=True).order_by("-meeting__held_on").first()
        now = timezone.now()
        update = StatusUpdate.objects.create(
            item=item, review=pending, author=user, text=text, created_at=now
        )
        item.last_update_at = now
        item.save(update_fields=["last_update_at"])
        if pending is not None:
            _refresh_current_status(pending)
        from .tasks import notify_subscribers

        notify_subscribers.delay_on_commit(update.pk)
    record("tracking.status_updated", actor=user, target=item.case_no, update=update.pk)
    return update


def item_assign(*, item, division, user=None, reason=""):
    """Set the responsible division (承辦), with a Change row."""
    with transaction.atomic():
        item = TrackedItem.objects.select_for_update().get(pk=item.pk)
        if item.division_id == (division.pk if division else None):
            return item
        _change(
            item,
            field=Change.Field.DIVISION,
            old=item.division.name if item.division else "",
            new=division.name if division else "（未指定）",
            user=user,
            reason=reason,
        )
        item.division = division
        item.save(update_fields=["division"])
    return item


def item_rename(*, item, subject, user=None, reason=""):
    """Correct the 案由 (the case number never changes), with a Change row."""
    if not (subject or "").strip():
        raise TrackingError("案由不可空白。")
    with transaction.atomic():
        item = TrackedItem.objects.select_for_update().get(pk=item.pk)
        _set_subject(item, subject, user=user, reason=reason)
    return item


def subscription_set(*, item, user, subscribed):
    if subscribed:
        Subscription.objects.get_or_create(item=item, user=user)
    else:
        Subscription.objects.filter(item=item, user=user).delete()
    return subscribed


def update_notify(*, update_id):
    """E-mail every subscriber (except the author) about one update, once each."""
    update = (
        StatusUpdate.objects.select_related("item__division", "author").filter(pk=update_id).first()
    )
    if update is None:
        return 0
    sent = 0
    subscribers = (
        Subscription.objects.filter(item=update.item)
        .exclude(user=update.author)
        .exclude(user__email="")
        .select_related("user")
    )
    for sub in subscribers:
        if not TrackedItem.objects.visible_to(sub.user).filter(pk=update.item_id).exists():
            continue  # an item opened by draft minutes: no news of it before they are published
        try:
            with transaction.atomic():
                UpdateNotice.objects.create(update=update, user=sub.user, sent_at=timezone.now())
                # inside the claim's transaction: a failed send un-claims, so a retry sends again
                send_email(
                    "tracking_update",
                    {"item": update.item, "update": update, "user": sub.user},
                    [sub.user.email],
                )
        except IntegrityError:
            continue  # already sent by an earlier run
        sent += 1
    return sent


def reminders_send(*, today=None):
    """Before each meeting: one e-mail per division listing its items on the meeting's table that
    still lack a 現辦理情形. A Reminder row per (meeting, division) makes a second run a no-op."""
    today = today or timezone.localdate()
    days = getattr(settings, "TRACKING_REMINDER_DAYS_BEFORE", 7)
    sent = []
    meetings = Meeting.objects.filter(
        held_on__gte=today, held_on__lte=date.fromordinal(today.toordinal() + days)
    )
    for meeting in meetings:
        missing = (
            Review.objects.filter(meeting=meeting, decided_at__isnull=True, current_status="")
            .filter(item__state=TrackedItem.State.OPEN, item__division__isnull=False)
            .select_related("item__division")
            .order_by("position")
        )
        by_division = {}
        for review in missing:
            by_division.setdefault(review.item.division, []).append(review.item)
        for division, items in by_division.items():
            to = sorted(
                {division.email}
                | set(
                    Membership.objects.filter(role=Role.BUREAU, division=division)
                    .exclude(user__email="")
                    .values_list("user__email", flat=True)
                )
                - {""}
            )
            try:
                with transaction.atomic():
                    Reminder.objects.create(
                        meeting=meeting,
                        division=division,
                        sent_at=timezone.now(),
                        case_numbers=[i.case_no for i in items],
                        recipients=to,
                    )
                    send_email(
                        "tracking_reminder",
                        {"meeting": meeting, "division": division, "items": items},
                        to,
                    )
            except IntegrityError:
                continue
            sent.append((meeting, division))
    return sent
