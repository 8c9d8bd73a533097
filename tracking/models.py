"""Tracked agenda items (列管事項): work a meeting wants followed up until it is closed.

An item's life is a series of rows, never an overwritten field:
- `Review`: what one meeting's minutes said about it (前次辦理情形 / 現辦理情形 / 決議), frozen
  once the meeting decides;
- `StatusUpdate`: a 辦理情形 posted by bureau staff between meetings (append-only);
- `Change`: every change of state, 承辦 or 案由 (who, when, old, new, why).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from meetings.models import Meeting
from portal import access

# --- what of a draft shows: nothing, to anyone but bureau staff -------------------------------
# Reviews, decisions (the Change rows they leave) and the items a meeting's motions open belong
# to that meeting's minutes: until the minutes are published, only readers for whom
# access.can_view_drafts holds see them. Every list, page, feed, export and notice of tracked
# items reads through the `visible_to(user)` methods below.


def published_q(meeting_path):
    """Rows tied (through `meeting_path`) to no meeting or to published minutes."""
    return Q(**{f"{meeting_path}__isnull": True}) | Q(
        **{f"{meeting_path}__status": Meeting.Status.PUBLISHED}
    )


class TrackedItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The items `user` may know of, each annotated with `shown_state`: the state the
        published minutes leave it in (for bureau staff, its state). An item opened in a draft
        does not exist for others, and a draft's decision (closed, merged) does not show."""
        if access.can_view_drafts(user):
            return self.annotate(shown_state=F("state"))
        opened_in_draft = Change.objects.filter(field=Change.Field.STATE, old="").exclude(
            published_q("meeting")
        )
        last_published_state = (
            Change.objects.filter(item=OuterRef("pk"), field=Change.Field.STATE)
            .filter(published_q("meeting"))
            .order_by("-at", "-id")
            .values("new")[:1]
        )
        return (
            self.filter(published_q("origin_meeting"))
            .exclude(pk__in=opened_in_draft.values("item_id"))
            .annotate(shown_state=Coalesce(Subquery(last_published_state), F("state")))
        )


class ReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Reviews of published minutes (all of them for bureau staff)."""
        return self if access.can_view_drafts(user) else self.filter(published_q("meeting"))


class StatusUpdateQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The 辦理情形 of the items `user` may know of."""
        if access.can_view_drafts(user):
            return self
        return self.filter(item__in=TrackedItem.objects.visible_to(user).values("pk"))


class ChangeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Changes made outside meetings or by published minutes (all for bureau staff)."""
        return self if access.can_view_drafts(user) else self.filter(published_q("meeting"))


class TrackedItem(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "列管中"
        CLOSED = "closed", "已解列"
        MERGED = "merged", "已併案"

    case_no = models.CharField(
        "案號",
        max_length=20,
        unique=True,
        help_text="民國年-月-序號，例如 108-09-01；一經編定終身不變",
    )
    subject = models.TextField("案由")
    division = models.ForeignKey(
        "portal.Division",
        verbose_name="承辦",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tracked_items",
    )
    origin_meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name="列管會議",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opened_tracked_items",
        help_text="開始列管的會議；匯入前已列管的事項為空白",
    )
    origin_motion = models.OneToOneField(
        "meetings.Motion",
        verbose_name="來源提案",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tracked_item",
    )
    position = models.PositiveSmallIntegerField("序號", default=0)
    opened_on = models.DateField("列管日期")
    state = models.CharField(
        "狀態", max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name="併入",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_items",
    )
    follows_up = models.ForeignKey(
        "self",
        verbose_name="延續",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        help_text="本案延續的前一個列管事項",
    )
    # Denormalised from the rows below, written under the item's row lock, so that lists and the
    # stale flag need no per-item queries.
    last_update_at = models.DateTimeField("最近辦理情形更新", null=True, blank=True)
    last_reviewed_on = models.DateField("最近審議會議日期", null=True, blank=True)
    closed_on = models.DateField("解列日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TrackedItemQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "case_no"]
        verbose_name = "列管事項"
        verbose_name_plural = "列管事項"
        indexes = [
            models.Index(
                fields=["division", "opened_on"],
                condition=Q(state="open"),
                name="tracking_open_by_division",
            )
        ]

    def __str__(self):
        return f"{self.case_no} {self.subject[:30]}"

    def get_absolute_url(self):
        return reverse("tracking:item", args=[self.case_no])

    @property
    def is_open(self):
        return self.state == self.State.OPEN


class Review(models.Model):
    """One row of a meeting's 上次會議追蹤列管事項 table. The three texts are what the minutes say
    and never change once the meeting has decided (`decided_at` set)."""

    class Source(models.TextChoices):
        CARRY_OVER = "carry", "自動帶入"
        IMPORT = "import", "會議紀錄匯入"

    item = models.ForeignKey(TrackedItem, on_delete=models.CASCADE, related_name="reviews")
    meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name="會議",
        on_delete=models.CASCADE,
        related_name="tracking_reviews",
    )
    position = models.PositiveSmallIntegerField("順序", default=0)
    previous_status = models.TextField("前次辦理情形", blank=True)
    current_status = models.TextField("現辦理情形", blank=True)
    resolution = models.TextField("決議", blank=True)
    decision = models.CharField("決議類別", max_length=10, blank=True)
    source = models.CharField(
        "來源", max_length=10, choices=Source.choices, default=Source.CARRY_OVER
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("決議登錄時間", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["meeting__held_on", "position", "id"]
        verbose_name = "列管審議"
        verbose_name_plural = "列管審議"
        constraints = [
            models.UniqueConstraint(fields=["item", "meeting"], name="one_review_per_meeting")
        ]

    def __str__(self):
        return f"{self.item.case_no} @ {self.meeting}"

    @property
    def is_decided(self):
        return self.decided_at is not None


class StatusUpdate(models.Model):
    """A 辦理情形 posted between meetings. Append-only: two people saving at once both keep theirs."""

    item = models.ForeignKey(TrackedItem, on_delete=models.CASCADE, related_name="updates")
    review = models.ForeignKey(
        Review,
        verbose_name="納入的審議",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="updates",
        help_text="此辦理情形寫入哪一次會議的「現辦理情形」",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填報人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField("辦理情形")
    created_at = models.DateTimeField("填報時間", db_index=True)

    objects = StatusUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "辦理情形"
        verbose_name_plural = "辦理情形"

    def __str__(self):
        return f"{self.item.case_no} {self.created_at:%Y-%m-%d %H:%M}"


class Change(models.Model):
    """Every change of an item (state, 承辦, 案由): who, when, old, new, why."""

    class Field(models.TextChoices):
        STATE = "state", "狀態"
        DIVISION = "division", "承辦"
        SUBJECT = "subject", "案由"

    item = models.ForeignKey(TrackedItem, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField("欄位", max_length=10, choices=Field.choices, default=Field.STATE)
    old = models.CharField("原值", max_length=200, blank=True)
    new = models.CharField("新值", max_length=200)
    reason = models.TextField("原因", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    meeting = models.ForeignKey(
        "meetings.Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField("時間", db_index=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "異動紀錄"
        verbose_name_plural = "異動紀錄"

    def __str__(self):
        return f"{self.item.case_no} {self.field}: {self.old} → {self.new}"


class Subscription(models.Model):
    """Someone who wants an e-mail whenever the item gets a new 辦理情形."""

    item = models.ForeignKey(TrackedItem, on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracking_subscriptions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "訂閱"
        verbose_name_plural = "訂閱"
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="one_subscription_per_user")
        ]

    def __str__(self):
        return f"{self.user} → {self.item.case_no}"


class UpdateNotice(models.Model):
    """Claim that one subscriber was e-mailed about one update: the task is safe to run twice."""

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = "更新通知"
        verbose_name_plural = "更新通知"
        constraints = [
            models.UniqueConstraint(fields=["update", "user"], name="one_notice_per_update_user")
        ]

    def __str__(self):
        return f"{self.update} → {self.user}"


class Reminder(models.Model):
    """Before a meeting, one e-mail per division listing its items that lack a 現辦理情形."""

    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="tracking_reminders"
    )
    division = models.ForeignKey("portal.Division", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField("寄送時間")
    case_numbers = models.JSONField("案號", default=list)
    recipients = models.JSONField("收件人", default=list)

    class Meta:
        verbose_name = "填報提醒"
        verbose_name_plural = "填報提醒"
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "division"], name="one_reminder_per_meeting_division"
            )
        ]

    def __str__(self):
        return f"{self.meeting} {self.division}"
