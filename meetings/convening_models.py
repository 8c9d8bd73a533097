"""The meeting before the minutes: its convening (開會通知) and every announcement of it.

A meeting is created as a draft (models.Meeting); until the bureau publishes the notice nothing
of it – the agenda, the date – is shown to anyone but bureau staff. Every announcement (the
notice, a change, the cancellation) is one row, and every e-mail of it one claimed delivery."""

from django.conf import settings
from django.db import models


class Convening(models.Model):
    """What the bureau decides before a meeting: when proposals are due, and whether the notice
    is out or the meeting is called off."""

    class State(models.TextChoices):
        PLANNED = "planned", "籌備中"
        NOTICED = "noticed", "已發開會通知"
        CANCELLED = "cancelled", "已取消"

    meeting = models.OneToOneField(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="convening"
    )
    state = models.CharField(
        "狀態", max_length=10, choices=State.choices, default=State.PLANNED, db_index=True
    )
    proposals_due = models.DateTimeField("提案截止", null=True, blank=True)
    noticed_at = models.DateTimeField("開會通知發布時間", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消時間", null=True, blank=True)
    minutes_opened_at = models.DateTimeField(
        "轉為紀錄草稿時間", null=True, blank=True,
        help_text="紀錄人員把議程轉為會議紀錄草稿的時間（提案已成為提案討論）。",
    )  # fmt: skip

    class Meta:
        verbose_name = "會議籌備"
        verbose_name_plural = "會議籌備"

    def __str__(self):
        return f"{self.meeting}（{self.get_state_display()}）"

    @property
    def is_noticed(self):
        """The notice is out (the meeting may since have been called off): the agenda and the
        announcements are shown to every member."""
        return self.noticed_at is not None

    @property
    def minutes_opened(self):
        return self.minutes_opened_at is not None

    @property
    def is_cancelled(self):
        return self.state == self.State.CANCELLED


class Announcement(models.Model):
    """One announcement of a meeting to every coordinator and convener: the notice (開會通知), a
    change (變更通知) or the cancellation (取消通知). `sequence` orders them for calendars."""

    class Kind(models.TextChoices):
        NOTICE = "notice", "開會通知"
        CHANGE = "change", "會議變更通知"
        CANCELLATION = "cancellation", "會議取消通知"

    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="announcements"
    )
    kind = models.CharField("類別", max_length=12, choices=Kind.choices)
    sequence = models.PositiveIntegerField("序號", default=0)
    changes = models.JSONField(
        "變更內容", default=list, blank=True, help_text="[[欄位, 原內容, 新內容], …]"
    )
    reason = models.CharField("說明", max_length=300, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField("發布時間", auto_now_add=True)

    class Meta:
        ordering = ["meeting", "sequence"]
        verbose_name = "會議通知"
        verbose_name_plural = "會議通知"
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "sequence"], name="one_announcement_per_sequence"
            )
        ]

    def __str__(self):
        return f"{self.meeting}：{self.get_kind_display()}"


class AnnouncementDelivery(models.Model):
    """One e-mail of one announcement to one person, claimed once (`sent_at`) so a task run
    twice never sends it twice."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField("電子郵件")
    sent_at = models.DateTimeField("寄出時間", null=True, blank=True)

    class Meta:
        verbose_name = "通知寄送"
        verbose_name_plural = "通知寄送"
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "user"], name="one_delivery_per_announcement_user"
            )
        ]

    def __str__(self):
        return f"{self.announcement} → {self.email}"
