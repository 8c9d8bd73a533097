"""The network's organisation: districts, schools, the bureau's divisions, and who plays which role."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q
from django.utils import timezone


class User(AbstractUser):
    """A person who logs in. Roles come from `Membership` rows, never from flags on the user."""

    full_name = models.CharField("姓名", max_length=60, blank=True)
    notify_on_minutes = models.BooleanField("會議紀錄發布時以電子郵件通知我", default=True)

    class Meta:
        verbose_name = "使用者"
        verbose_name_plural = "使用者"

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self):
        return self.full_name or self.get_full_name() or self.username


class Division(models.Model):
    """A division of the bureau's IT section (資訊推廣組, 系統平臺組, 網管資安組): data, not code."""

    name = models.CharField("組別", max_length=30, unique=True)
    position = models.PositiveSmallIntegerField("排序", default=0)
    email = models.EmailField("組別信箱", blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "業務組別"
        verbose_name_plural = "業務組別"

    def __str__(self):
        return self.name


class District(models.Model):
    """One of the nine districts (九大分區); its convener school hosts the district's meetings."""

    name = models.CharField("分區", max_length=20, unique=True)
    position = models.PositiveSmallIntegerField("排序", default=0)
    convener_school = models.ForeignKey(
        "School",
        verbose_name="召集學校",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "分區"
        verbose_name_plural = "分區"

    def __str__(self):
        return self.name


class SchoolLevel(models.TextChoices):
    ELEMENTARY = "elementary", "國小"
    JUNIOR_HIGH = "junior_high", "國中"


class School(models.Model):
    name = models.CharField("校名", max_length=40)
    code = models.CharField("學校代碼", max_length=10, unique=True)
    level = models.CharField("學制", max_length=12, choices=SchoolLevel.choices, blank=True)
    district = models.ForeignKey(
        District, verbose_name="分區", on_delete=models.PROTECT, related_name="schools"
    )
    email_domain = models.CharField("電子郵件網域", max_length=80, blank=True)

    class Meta:
        ordering = ["district__position", "code"]
        verbose_name = "學校"
        verbose_name_plural = "學校"

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "資訊組長"
    CONVENER = "convener", "分區代表"
    BUREAU = "bureau", "教育局"
    ADMIN = "admin", "系統管理員"


class Membership(models.Model):
    """One role a person plays: coordinator of a school, convener of a district, bureau staff."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    school = models.ForeignKey(
        School, verbose_name="學校", null=True, blank=True, on_delete=models.CASCADE
    )
    district = models.ForeignKey(
        District, verbose_name="分區", null=True, blank=True, on_delete=models.CASCADE
    )
    division = models.ForeignKey(
        Division,
        verbose_name="業務組別",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="教育局人員所屬組別（決定可更新哪些列管事項）",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "角色"
        verbose_name_plural = "角色"
        constraints = [
            models.CheckConstraint(
                name="coordinator_has_school",
                condition=~Q(role="coordinator") | Q(school__isnull=False),
            ),
            models.CheckConstraint(
                name="convener_has_district",
                condition=~Q(role="convener") | Q(district__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "school"],
                condition=Q(role="coordinator"),
                name="one_coordinator_membership_per_school",
            ),
            models.UniqueConstraint(
                fields=["user", "district"],
                condition=Q(role="convener"),
                name="one_convener_membership_per_district",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(role__in=["bureau", "admin"]),
                name="one_staff_membership_per_role",
            ),
        ]

    def __str__(self):
        where = self.school or self.district or self.division or ""
        return f"{self.user} – {self.get_role_display()} {where}".strip()


def _invitation_token():
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=14)


class Invitation(models.Model):
    """Bureau staff invite a coordinator (a school), a convener (a district) or bureau staff (a
    division) by e-mail; accepting it gives the account that role. Revoked invitations stay as
    rows (who revoked, when) so the list shows what happened."""

    email = models.EmailField("電子郵件")
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.COORDINATOR)
    school = models.ForeignKey(
        School, verbose_name="學校", null=True, blank=True, on_delete=models.CASCADE
    )
    district = models.ForeignKey(
        District, verbose_name="分區", null=True, blank=True, on_delete=models.CASCADE
    )
    division = models.ForeignKey(
        Division, verbose_name="業務組別", null=True, blank=True, on_delete=models.SET_NULL
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    sent_count = models.PositiveSmallIntegerField("寄出次數", default=1)
    last_sent_at = models.DateTimeField("最近寄出", default=timezone.now)
    revoked_at = models.DateTimeField("撤銷時間", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "邀請"
        verbose_name_plural = "邀請"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.target_label}"

    @property
    def target_label(self):
        return str(self.school or self.district or self.division or self.get_role_display())

    @property
    def is_usable(self):
        return self.status == "pending"

    @property
    def status(self):
        """pending, accepted, revoked or expired."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def status_label(self):
        return {"pending": "等待接受", "accepted": "已接受", "revoked": "已撤銷",
                "expired": "已過期"}[self.status]  # fmt: skip


class UserSession(AbstractBaseSession):
    """A browser's session (Django's session row) that also names the person logged in with it,
    so that an admin can end a person's sessions, and they end with the account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessions",
        verbose_name="使用者",
    )

    class Meta:
        verbose_name = "登入工作階段"
        verbose_name_plural = "登入工作階段"

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the heartbeat task; /healthz reports its age."""

    worker = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "工作程序心跳"
        verbose_name_plural = "工作程序心跳"

    def __str__(self):
        return f"{self.worker} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class AuditEvent(models.Model):
    """Append-only record of who did what, when and from where. The app never updates or deletes
    a row except through the retention purge."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField("操作者", max_length=150, blank=True)
    action = models.CharField("動作", max_length=60, db_index=True)
    target = models.CharField("對象", max_length=200, blank=True)
    ip = models.GenericIPAddressField("來源位址", null=True, blank=True)
    detail = models.JSONField("內容", default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "稽核紀錄"
        verbose_name_plural = "稽核紀錄"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target}"

    @property
    def detail_text(self):
        """The detail as `key=value；…` (a method, so a detail key named `items` cannot shadow
        dict.items() in a template)."""
        return "；".join(f"{key}={value}" for key, value in (self.detail or {}).items())


class BackgroundJob(models.Model):
    """Long work a person started (an import, a what-if replay): a Celery task reports progress
    here and the person watches a progress bar, so no request blocks for more than a moment."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排隊中"
        RUNNING = "running", "處理中"
        DONE = "done", "完成"
        FAILED = "failed", "失敗"

    kind = models.CharField("工作類型", max_length=60)
    title = models.CharField("名稱", max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_url = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # the Celery task that does the work, and when it was last handed to the broker: a job the
    # broker never took (or lost) is sent again from these (portal/jobs.py)
    task = models.CharField("Celery 工作", max_length=200, blank=True)
    queued_at = models.DateTimeField("送出時間", null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "背景工作"
        verbose_name_plural = "背景工作"

    def __str__(self):
        return f"{self.title}（{self.get_status_display()}）"

    @property
    def retryable(self):
        """Failed before any worker took it (the broker was away): sending it again is safe."""
        return self.status == self.Status.FAILED and self.claimed_at is None and bool(self.task)

    @property
    def goes_to_result(self):
        """Done, and the page promised to take the person to the result."""
        return self.status == self.Status.DONE and bool(self.result_url and self.result.get("go"))

    @property
    def back_url(self):
        """Where to start over after a failure with a reason (the form the job came from)."""
        return self.params.get("back_url", "") if self.status == self.Status.FAILED else ""

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0
