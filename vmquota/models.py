"""The VM hosting room's resource policy (虛擬機房大量耗用資源限制): inventory, policy as data,
usage samples, incidents and the actions taken on them.

Every status change is a row: a VM's state changes are `VmStateChange` rows, an incident's end
is written once on its row, and every outbound call (e-mail, suspend, resume) is an `Action` row
with its own status, attempts and error, claimed by a conditional UPDATE (see services.py).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from portal.models import School


class Hypervisor(models.Model):
    name = models.CharField("名稱", max_length=60, unique=True)
    uri = models.CharField(
        "連線 URI", max_length=300, help_text="libvirt URI，例如 qemu+ssh://host/system"
    )
    enabled = models.BooleanField("啟用", default=True)
    last_synced_at = models.DateTimeField("最近同步", null=True, blank=True)
    last_error = models.TextField("最近錯誤", blank=True)

    class Meta:
        verbose_name = "虛擬化主機"
        verbose_name_plural = "虛擬化主機"

    def __str__(self):
        return self.name


class VmState(models.TextChoices):
    RUNNING = "running", "執行中"
    PAUSED = "paused", "已暫停"
    SHUTOFF = "shutoff", "已關機"
    UNKNOWN = "unknown", "不明"


class VirtualMachine(models.Model):
    hypervisor = models.ForeignKey(
        Hypervisor, verbose_name="虛擬化主機", on_delete=models.PROTECT, related_name="vms"
    )
    name = models.CharField("名稱", max_length=100, unique=True)
    uuid = models.UUIDField("UUID", unique=True)
    vcpus = models.PositiveSmallIntegerField("vCPU 數", default=1)
    school = models.ForeignKey(
        School,
        verbose_name="所屬學校",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vms",
    )
    state = models.CharField("狀態", max_length=10, choices=VmState.choices, default="unknown")
    state_checked_at = models.DateTimeField("狀態確認時間", null=True, blank=True)
    # the live evaluator's watermark: the timestamp of the latest sample it has processed
    last_sample_at = models.DateTimeField("最近評估的樣本時間", null=True, blank=True)
    # streaks were ended for lack of data up to here; a sample at or before it is "late"
    closed_through = models.DateTimeField(null=True, blank=True, editable=False)
    # a suspension (or resume) ended every streak here: samples at or before it are never
    # judged again, and the VM starts fresh after it
    streaks_reset_at = models.DateTimeField(
        "連續狀態重新起算", null=True, blank=True, editable=False
    )
    # the libvirt collector's previous counters, to compute rates from deltas
    counter_cpu_ns = models.BigIntegerField(null=True, blank=True, editable=False)
    counter_net_bytes = models.BigIntegerField(null=True, blank=True, editable=False)
    counter_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "虛擬機"
        verbose_name_plural = "虛擬機"

    def __str__(self):
        return self.name


class VmStateChange(models.Model):
    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField("時間", default=timezone.now)
    old = models.CharField("原狀態", max_length=10, choices=VmState.choices)
    new = models.CharField("新狀態", max_length=10, choices=VmState.choices)
    reason = models.CharField("原因", max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "虛擬機狀態變更"
        verbose_name_plural = "虛擬機狀態變更"

    def __str__(self):
        return f"{self.vm_id}: {self.old} → {self.new}"


class Policy(models.Model):
    name = models.CharField("名稱", max_length=60, unique=True, default="虛擬機房大量耗用資源限制")

    class Meta:
        verbose_name = "資源限制政策"
        verbose_name_plural = "資源限制政策"

    def __str__(self):
        return self.name


class PolicyVersion(models.Model):
    """One version of the limits. A draft has no `published_at`; thresholds apply to samples
    from `effective_from` on – nothing is judged retroactively."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版次")
    effective_from = models.DateTimeField("生效時間")
    announcement = models.TextField("公告內容", blank=True)
    max_gap = models.DurationField("容許資料中斷", default=timedelta(minutes=5))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修訂者",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField("發布時間", null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = "政策版本"
        verbose_name_plural = "政策版本"
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="vmquota_version_number")
        ]

    def __str__(self):
        return f"第 {self.number} 版"


class Metric(models.TextChoices):
    CPU = "cpu_percent", "CPU"
    NET = "net_kbps", "網路"


class RuleAction(models.TextChoices):
    ALERT = "alert", "告警"
    SUSPEND = "suspend", "暫停虛擬機"


class RuleMode(models.TextChoices):
    ENFORCE = "enforce", "執行"
    OBSERVE = "observe", "觀察（僅記錄）"


class Rule(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="rules")
    metric = models.CharField("指標", max_length=20, choices=Metric.choices)
    threshold = models.FloatField("門檻（≥）")
    duration = models.DurationField("持續時間", default=timedelta(minutes=30))
    action = models.CharField("處置", max_length=10, choices=RuleAction.choices)
    mode = models.CharField("模式", max_length=10, choices=RuleMode.choices, default="enforce")

    class Meta:
        ordering = ["metric", "threshold"]
        verbose_name = "規則"
        verbose_name_plural = "規則"

    def __str__(self):
        return describe_rule(self.metric, self.threshold, self.duration, self.action)


def format_threshold(metric, threshold):
    number = int(threshold) if float(threshold).is_integer() else threshold
    return f"CPU ≥ {number} %" if metric == Metric.CPU else f"網路 ≥ {number} KB/s"


def describe_rule(metric, threshold, duration, action):
    minutes = int(duration.total_seconds() // 60)
    verb = RuleAction(action).label
    return f"{format_threshold(metric, threshold)} 連續 {minutes} 分鐘 → {verb}"


# Evaluation is split into shards by vm_id modulo this number (vmquota/evaluation_runner.py). The
# sample table's shard index is built on the same expression, so changing it needs a migration too.
EVALUATION_SHARDS = 16

# The samples lock: the key of a PostgreSQL advisory lock (see UsageSample). Migration 0005's
# trigger has the number written into it; tests/vmquota/test_ingest.py holds the two equal.
SAMPLES_LOCK = 0x766D71  # "vmq"


class UsageSample(models.Model):
    """One minute of a VM's usage. `cpu_percent` is the share of all its vCPUs (0–100);
    `net_kbps` is received + transmitted KB/s (1 KB = 1024 bytes).

    The unique (vm, ts) index serves every read by VM and makes resending harmless; the foreign
    key has no index of its own, since that one's leading column serves every lookup by vm_id.
    A BRIN index on ts (PostgreSQL) serves the purge, and the shard index ((vm_id % 16), id) lets
    each evaluation shard read only its own new rows.

    The evaluator walks the table by id (EvaluationCursor), and ids are drawn before their rows
    are committed: a cursor moved past a row still being inserted would never read it. So on
    PostgreSQL every statement that inserts samples takes the advisory lock SAMPLES_LOCK, shared,
    until its transaction ends – a statement-level trigger (migration 0005), which covers the
    ORM, COPY and raw SQL alike – and `evaluation_runner.committed_horizon` takes it exclusively
    for an instant to learn an id below which every sample is committed. SQLite serialises its
    writers and needs none of this."""

    vm = models.ForeignKey(
        VirtualMachine, on_delete=models.CASCADE, related_name="samples", db_index=False
    )
    ts = models.DateTimeField("時間")
    cpu_percent = models.FloatField("CPU %")
    net_kbps = models.FloatField("網路 KB/s")

    class Meta:
        verbose_name = "使用量樣本"
        verbose_name_plural = "使用量樣本"
        constraints = [models.UniqueConstraint(fields=["vm", "ts"], name="vmquota_sample_vm_ts")]
        indexes = [
            models.Index(F("vm_id") % EVALUATION_SHARDS, F("id"), name="vmquota_sample_shard_id")
        ]

    def __str__(self):
        return f"{self.vm_id} {self.ts:%Y-%m-%d %H:%M}"


class SampleRollup(models.Model):
    """The 5-minute maxima of a VM's stored samples, kept by `ingest.store` in the same
    transaction as the samples (vmquota/rollup.py): buckets on the clock (UTC; Taipei's offset is a
    whole number of them), so a day is 288 rows and a month 8 640. Only stored samples count:
    a repeat that the unique index refused never raises a maximum."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="+",
                           db_index=False)  # fmt: skip
    bucket = models.DateTimeField("五分鐘起點")
    cpu_max = models.FloatField("CPU % 最大值")
    net_max = models.FloatField("網路 KB/s 最大值")

    class Meta:
        verbose_name = "五分鐘最大值"
        verbose_name_plural = "五分鐘最大值"
        constraints = [
            models.UniqueConstraint(fields=["vm", "bucket"], name="vmquota_rollup_vm_bucket")
        ]

    def __str__(self):
        return f"{self.vm_id} {self.bucket:%Y-%m-%d %H:%M}"


class EvaluationCursor(models.Model):
    """A shard's position in the sample table: one row per evaluation shard (pk = shard + 1)."""

    last_sample_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "評估進度"
        verbose_name_plural = "評估進度"

    def __str__(self):
        return f"cursor {self.last_sample_id}"


class EndReason(models.TextChoices):
    RECOVERED = "recovered", "已恢復"
    NO_DATA = "no_data", "資料中斷"
    SUPERSEDED = "superseded", "政策改版"
    SUSPENDED = "suspended", "已暫停"


class Incident(models.Model):
    """A streak that fired. Unique per VM, rule and streak start: evaluating twice never makes two."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="incidents")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="incidents")
    streak_start = models.DateTimeField("連續開始")
    fired_at = models.DateTimeField("觸發時間")
    ended_at = models.DateTimeField("結束時間", null=True, blank=True)
    end_reason = models.CharField("結束原因", max_length=12, choices=EndReason.choices, blank=True)
    observe_only = models.BooleanField("觀察模式（僅記錄）", default=False)
    exempted = models.BooleanField("豁免中", default=False)
    exemption = models.ForeignKey(
        "Exemption", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    # evidence: the streak's first sample, the sample that fired it, its last sample (at its end)
    first_value = models.FloatField("第一筆數值")
    fired_value = models.FloatField("觸發時數值")
    last_sample_at = models.DateTimeField("最後一筆時間", null=True, blank=True)
    # a late sample can show that the streak never was one; the row stays, marked withdrawn
    withdrawn_at = models.DateTimeField("因遲到資料撤銷", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = "事件"
        verbose_name_plural = "事件"
        constraints = [
            models.UniqueConstraint(
                fields=["vm", "rule", "streak_start"], name="vmquota_incident_per_streak"
            )
        ]
        indexes = [
            models.Index(
                fields=["fired_at"],
                name="vmquota_incident_open",
                condition=Q(ended_at__isnull=True, withdrawn_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.vm}：{self.rule}"

    @property
    def is_open(self):
        return self.ended_at is None and self.withdrawn_at is None


class StreakState(models.Model):
    """The live evaluator's state for one VM and rule while a streak is open (deleted when it ends).
    The streak's last sample is always the VM's `last_sample_at`, so it is not stored."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="streaks")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    start_ts = models.DateTimeField()
    start_value = models.FloatField()
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "連續狀態"
        verbose_name_plural = "連續狀態"
        constraints = [models.UniqueConstraint(fields=["vm", "rule"], name="vmquota_streak_state")]

    def __str__(self):
        return f"{self.vm_id}/{self.rule_id} since {self.start_ts}"


class ActionKind(models.TextChoices):
    ALERT = "alert", "告警通知"
    REMINDER = "reminder", "持續告警提醒"
    RESOLVED = "resolved", "已恢復通知"
    SUSPEND = "suspend", "暫停虛擬機"
    RESUME = "resume", "恢復虛擬機"
    OPERATOR = "operator", "通知維運人員"


class ActionStatus(models.TextChoices):
    PENDING = "pending", "待處理"
    RUNNING = "running", "處理中"
    DONE = "done", "完成"
    FAILED = "failed", "失敗"
    SKIPPED = "skipped", "略過"
    FOLDED = "folded", "併入暫停通知"


class Action(models.Model):
    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="actions")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField("種類", max_length=10, choices=ActionKind.choices)
    seq = models.PositiveIntegerField("序號", default=0)
    status = models.CharField(
        "狀態", max_length=10, choices=ActionStatus.choices, default="pending"
    )
    attempts = models.PositiveSmallIntegerField("嘗試次數", default=0)
    error = models.TextField("錯誤", blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField("完成時間", null=True, blank=True)
    observed_state = models.CharField(
        "操作後讀回的狀態", max_length=10, blank=True, help_text="the domain state read back"
    )
    folded_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="folded"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("說明", max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "處置"
        verbose_name_plural = "處置"
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "seq"],
                condition=Q(incident__isnull=False),
                name="vmquota_one_action_per_incident_kind_seq",
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="vmquota_action_todo",
                condition=Q(status__in=["pending", "running"]),
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.get_status_display()}）"

    @property
    def unsent_mail(self):
        """An e-mail that has been tried and not sent yet (it is retried until it goes out)."""
        return (
            self.kind in {"alert", "reminder", "resolved", "operator"}
            and self.status in {"pending", "running", "failed"}
            and self.attempts > 0
        )


class Exemption(models.Model):
    vm = models.ForeignKey(
        VirtualMachine,
        verbose_name="虛擬機",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exemptions",
    )
    school = models.ForeignKey(
        School,
        verbose_name="學校",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    starts_at = models.DateTimeField("開始")
    ends_at = models.DateTimeField("結束")
    reason = models.CharField("理由", max_length=300)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = "豁免"
        verbose_name_plural = "豁免"
        constraints = [
            models.CheckConstraint(
                name="vmquota_exemption_vm_xor_school",
                condition=Q(vm__isnull=False, school__isnull=True)
                | Q(vm__isnull=True, school__isnull=False),
            ),
            models.CheckConstraint(
                name="vmquota_exemption_window", condition=Q(ends_at__gt=models.F("starts_at"))
            ),
        ]

    def __str__(self):
        return f"{self.vm or self.school}：{self.reason}"


def token_digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class CollectorToken(models.Model):
    """A collector's credential. Only the SHA-256 digest is stored; the token (256 random bits)
    is shown once when it is made.

    A token posts samples only for the VMs in its scope: those on its hosts (`hypervisors`), or
    those of its school. A batch with any other VM is refused whole and audited, so a leaked
    token cannot fake a streak on another school's VM. A token with no scope posts nothing."""

    name = models.CharField("收集器名稱", max_length=80)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField("開頭", max_length=12, editable=False)
    hypervisors = models.ManyToManyField(
        Hypervisor, verbose_name="收集範圍：主機", blank=True, related_name="collector_tokens"
    )
    school = models.ForeignKey(
        School,
        verbose_name="收集範圍：學校",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # narrows the scope, never widens it
        related_name="+",
    )
    # set by migration 0006 for tokens made before scopes existed (see there); the page says so
    scope_from_migration = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField("撤銷時間", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "收集器權杖"
        verbose_name_plural = "收集器權杖"

    def __str__(self):
        return f"{self.name}（{self.prefix}…）"

    @classmethod
    def issue(cls, *, name, created_by=None, hypervisors=(), school=None):
        """Returns (token row, raw token); the raw token is never stored. The scope: the hosts
        whose VMs it may post for, and/or a school whose VMs it may post for."""
        raw = "vmq_" + secrets.token_urlsafe(32)
        row = cls.objects.create(
            name=name, digest=token_digest(raw), prefix=raw[:10], created_by=created_by,
            school=school,
        )  # fmt: skip
        row.hypervisors.set(hypervisors)
        return row, raw

    def scope_q(self, prefix=""):
        """The VMs this token may post for, as a filter on VirtualMachine (or on `prefix`__)."""
        q = Q(**{f"{prefix}hypervisor__collector_tokens": self})
        if self.school_id is not None:
            q |= Q(**{f"{prefix}school_id": self.school_id})
        return q


class WhatIfRun(models.Model):
    """A what-if comparison of draft thresholds against the current policy (run by a task)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, default="pending")
    result = models.JSONField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # progress while it runs: VMs whose samples were compared, of all VMs
    vms_done = models.PositiveIntegerField("已比對虛擬機", default=0)
    vms_total = models.PositiveIntegerField("虛擬機總數", default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "試算"
        verbose_name_plural = "試算"

    def __str__(self):
        return f"試算 #{self.pk}"
