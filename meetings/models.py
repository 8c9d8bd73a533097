"""Structured minutes (會議紀錄) of the network's meetings.

The official numbering (壹、…; 一、; (一); 1、; (1)) is never stored: it is computed from the
structure when the minutes are rendered (see numbering.py).
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse


class MeetingSeries(models.Model):
    """A recurring meeting, e.g. 九大分區資訊組長聯席會議, and who convenes it."""

    name = models.CharField("會議名稱", max_length=80, unique=True)
    organiser = models.CharField("召集單位", max_length=80)

    class Meta:
        verbose_name = "會議系列"
        verbose_name_plural = "會議系列"

    def __str__(self):
        return self.name


class Meeting(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已發布"

    series = models.ForeignKey(
        MeetingSeries, verbose_name="會議系列", on_delete=models.PROTECT, related_name="meetings"
    )
    title = models.CharField("會議名稱", max_length=120, help_text="例如：108 年度 9 月份聯席會議")
    held_on = models.DateField("會議日期", db_index=True)
    start_time = models.TimeField("開始時間", null=True, blank=True)
    adjourned_time = models.TimeField("散會時間", null=True, blank=True)
    place = models.CharField("會議地點", max_length=200, blank=True)
    chair = models.CharField("主持人", max_length=60, blank=True)
    recorder = models.CharField("紀錄", max_length=60, blank=True)
    attendance_note = models.CharField("出席人員", max_length=200, blank=True, default="詳簽到表")
    attendees = models.ManyToManyField(
        "portal.School", verbose_name="出席學校", blank=True, related_name="meetings_attended"
    )
    chair_remarks = models.TextField("主席致詞", blank=True, default="略")
    status = models.CharField(
        "狀態", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField("發布時間", null=True, blank=True)
    announced = models.BooleanField(
        "已公告",
        default=False,
        help_text="勾選後，資訊組長的行事曆訂閱會出現這次會議的名稱、時間與地點（紀錄仍是草稿）。",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    source_text = models.TextField("匯入原文", blank=True, help_text="匯入時的原始文字，保留備查")
    section_notes = models.JSONField(
        "未歸類文字",
        default=dict,
        blank=True,
        help_text="匯入時無法歸類、保留在各段落的文字：{段落代碼: [文字, …]}",
    )
    import_warnings = models.JSONField("匯入提醒", default=list, blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = "會議"
        verbose_name_plural = "會議"
        indexes = [models.Index(fields=["status", "-held_on"], name="meeting_status_held_idx")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("meetings:detail", args=[self.pk])

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED


class ReportItem(models.Model):
    """One item of a division's business report (業務報告), in a tree of any depth.

    Top-level items (parent = None) are numbered (一), (二)… under their division's 一、二、…;
    their children 1、2、…, grandchildren (1)(2)…
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="report_items")
    division = models.ForeignKey(
        "portal.Division", verbose_name="業務組別", on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveIntegerField("順序", default=0)
    text = models.TextField("內容")

    class Meta:
        ordering = ["meeting", "division__position", "parent_id", "position", "id"]
        verbose_name = "業務報告項目"
        verbose_name_plural = "業務報告項目"

    def __str__(self):
        return self.text[:40]


class Motion(models.Model):
    """A proposal (提案討論) or an extempore motion (臨時動議), with its 案由 and 決議."""

    class Kind(models.TextChoices):
        PROPOSAL = "proposal", "提案討論"
        EXTEMPORE = "extempore", "臨時動議"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="motions")
    kind = models.CharField("類別", max_length=10, choices=Kind.choices)
    position = models.PositiveIntegerField("順序", default=0)
    subject = models.TextField("案由")
    explanation = models.TextField("說明", blank=True)
    resolution = models.TextField("決議", blank=True)
    proposer = models.CharField("提案單位", max_length=80, blank=True)

    class Meta:
        ordering = ["meeting", "kind", "position", "id"]
        verbose_name = "提案"
        verbose_name_plural = "提案"

    def __str__(self):
        return self.subject[:40]


def attachment_path(instance, filename):
    """A random name under meetings/<year>/: the file is served only through the access-checked
    view (views.attachment_download) under its original name, never from a guessable URL."""
    return (
        f"meetings/{instance.meeting.held_on:%Y}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"
    )


class Attachment(models.Model):
    """A file, or a link to a survey of signups/ (`linked`), attached to the minutes: to the
    whole meeting, to one report item or to one motion. Files are served only to people who may
    read the meeting (views.attachment_download), never through a public media URL."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    report_item = models.ForeignKey(
        ReportItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    motion = models.ForeignKey(
        Motion, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    title = models.CharField("名稱", max_length=200)
    file = models.FileField("檔案", upload_to=attachment_path, blank=True)
    original_name = models.CharField("原始檔名", max_length=200, blank=True)
    content_type = models.CharField("檔案類型", max_length=120, blank=True)
    size = models.PositiveIntegerField("大小（位元組）", default=0)
    # a link to a row of an app built on meetings (a survey of signups/), registered as a
    # hooks.LinkKind: meetings knows only its URL and title. Deleting the row deletes the link
    # (its model's GenericRelation).
    linked_type = models.ForeignKey(
        ContentType,
        verbose_name="連結種類",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    linked_id = models.PositiveBigIntegerField("連結對象編號", null=True, blank=True)
    linked = GenericForeignKey("linked_type", "linked_id")
    url = models.CharField("連結", max_length=500, blank=True)
    position = models.PositiveIntegerField("順序", default=0)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField("加入時間", auto_now_add=True, null=True)

    class Meta:
        ordering = ["meeting", "position", "id"]
        verbose_name = "附件"
        verbose_name_plural = "附件"
        constraints = [
            models.CheckConstraint(
                name="attachment_file_or_link_not_both",
                condition=models.Q(linked_id__isnull=True) | models.Q(file=""),
            ),
            models.CheckConstraint(
                name="attachment_link_type_and_id_together",
                condition=models.Q(linked_type__isnull=True, linked_id__isnull=True)
                | models.Q(linked_type__isnull=False, linked_id__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["linked_type", "linked_id"], name="attachment_linked")]

    def __str__(self):
        return self.title

    @property
    def kind(self):
        if self.linked_id is not None:
            return self.linked_type.model  # e.g. "survey"
        return "file" if self.file else "link"


class Correction(models.Model):
    """A recorded change to published minutes: who, when, what (old → new) and why.

    Published minutes are never edited silently; every changed field is one row."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="corrections")
    target = models.CharField("更正項目", max_length=200, help_text="例如：會議地點、案由二的決議")
    field = models.CharField("欄位", max_length=60)
    old_value = models.TextField("原內容", blank=True)
    new_value = models.TextField("更正後內容", blank=True)
    reason = models.CharField("更正原因", max_length=300)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_at = models.DateTimeField("更正時間", auto_now_add=True)

    class Meta:
        ordering = ["meeting", "corrected_at", "id"]
        verbose_name = "紀錄更正"
        verbose_name_plural = "紀錄更正"

    def __str__(self):
        return f"{self.meeting}：{self.target}"


class MinutesNotice(models.Model):
    """One e-mail telling one coordinator that minutes were published. The unique constraint and
    the conditional claim of `sent_at` make the notice task safe to run twice."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField("電子郵件")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField("寄出時間", null=True, blank=True)

    class Meta:
        verbose_name = "發布通知"
        verbose_name_plural = "發布通知"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="one_notice_per_meeting_user")
        ]

    def __str__(self):
        return f"{self.meeting} → {self.email}"


class SearchEntry(models.Model):
    """A denormalised row per searchable piece of published minutes (an item, a motion, a header
    field), rebuilt whenever a meeting is saved. Search reads only this table, with one query."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="search_entries")
    held_on = models.DateField()
    published = models.BooleanField(default=False)
    anchor = models.CharField(max_length=40, help_text="the id of the element on the meeting page")
    label = models.CharField(
        max_length=120, help_text="where it is, e.g. 捌、業務報告 一、(四) 2、"
    )
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-held_on", "meeting_id", "position"]
        verbose_name = "搜尋索引"
        verbose_name_plural = "搜尋索引"
        indexes = [models.Index(fields=["published", "-held_on"], name="search_pub_held_idx")]

    def __str__(self):
        return f"{self.meeting_id} {self.label}"


class FeedKey(models.Model):
    """A secret per user in the Atom and iCalendar feed URLs: feed readers and calendar apps
    cannot log in, and the minutes are not public."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meetings_feed_key"
    )
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "訂閱金鑰"
        verbose_name_plural = "訂閱金鑰"

    def __str__(self):
        return f"{self.user} 的訂閱金鑰"


# The meeting before the minutes (its notice and announcements) lives in its own module.
from .attendance_models import AttendanceReply, SignIn, TimetableNote  # noqa: E402, F401
from .convening_models import Announcement, AnnouncementDelivery, Convening  # noqa: E402, F401
from .proposal_models import Proposal, ProposalTransition  # noqa: E402, F401
