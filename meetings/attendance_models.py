"""Attendance at a meeting: each school's answer before it (出席回覆), the sign-in on the day
(簽到, by the attendee through the code shown at the meeting or ticked by the recorder) – together
the 簽到表 the minutes point to (出席人員：詳簽到表) – and the timetable notes (課表) the district's
convener collects for coordinators whose classes clash with the meetings."""

from django.conf import settings
from django.db import models


class AttendanceReply(models.Model):
    """A school's answer before the meeting. Never overwritten: a changed answer is a new row,
    the latest one counts and the earlier ones are its history."""

    class Answer(models.TextChoices):
        ATTEND = "attend", "出席"
        SUBSTITUTE = "substitute", "代理出席"
        ABSENT = "absent", "不克出席"

    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="attendance_replies"
    )
    school = models.ForeignKey(
        "portal.School", verbose_name="學校", on_delete=models.CASCADE, related_name="+"
    )
    answer = models.CharField("回覆", max_length=10, choices=Answer.choices)
    attendee = models.CharField("出席人員", max_length=60, blank=True)
    note = models.CharField("說明", max_length=200, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField("回覆時間", auto_now_add=True)

    class Meta:
        ordering = ["meeting", "school", "-answered_at", "-id"]
        verbose_name = "出席回覆"
        verbose_name_plural = "出席回覆"
        indexes = [models.Index(fields=["meeting", "school", "-id"], name="reply_latest_idx")]

    def __str__(self):
        return f"{self.school}：{self.get_answer_display()}"


class SignIn(models.Model):
    """One school signed in at the meeting: by its attendee (the sign-in page, with the code
    shown at the meeting) or ticked by the recorder. One per school and meeting."""

    class Method(models.TextChoices):
        SELF = "self", "本人簽到"
        RECORDER = "recorder", "紀錄勾選"

    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="sign_ins"
    )
    school = models.ForeignKey(
        "portal.School", verbose_name="學校", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField("簽到人", max_length=60, blank=True)
    method = models.CharField("方式", max_length=10, choices=Method.choices)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField("簽到時間", auto_now_add=True)

    class Meta:
        ordering = ["meeting", "school__district__position", "school__code"]
        verbose_name = "簽到"
        verbose_name_plural = "簽到"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "school"], name="one_sign_in_per_school")
        ]

    def __str__(self):
        return f"{self.school} {self.name}"


class TimetableNote(models.Model):
    """A coordinator whose classes clash with the meetings asks for a timetable note (課表); the
    district's convener collects them and hands them to the bureau (調課, handled apart)."""

    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="timetable_notes"
    )
    school = models.ForeignKey(
        "portal.School", verbose_name="學校", on_delete=models.CASCADE, related_name="+"
    )
    teacher = models.CharField("教師", max_length=60)
    classes = models.CharField(
        "衝堂課務", max_length=300, help_text="例如：週二第 2、3 節 六年三班資訊課"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField("提出時間", auto_now_add=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="彙整人",
    )  # fmt: skip
    collected_at = models.DateTimeField("彙整時間", null=True, blank=True)

    class Meta:
        ordering = ["meeting", "school__district__position", "school__code", "id"]
        verbose_name = "課表需求"
        verbose_name_plural = "課表需求"

    def __str__(self):
        return f"{self.school} {self.teacher}"
