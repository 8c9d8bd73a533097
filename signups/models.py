"""Survey tables that schools file before a deadline (調查填報).

A `Survey` is one table the bureau asks every school to return, e.g. 109年度寒假青少年休閒育樂活動
開辦調查表. Its date rules are data (an activity window, blackout periods, registration before the
activity), so the next survey of the same kind needs no code. A school's answer is one `Response`
(state 草稿 / 已送出 / 無意願 / 退回; no row means 未填) holding its `Offer` rows. Every state change
is a `StatusChange` row and every submission a `Submission` version with a snapshot of the rows.
"""

from datetime import date, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from portal import rocdate
from portal.models import District, School

from . import columns, rules


class FiledBy(models.TextChoices):
    SCHOOL = "school", "每校填報"
    DISTRICT = "district", "分區召集學校填報（每分區一份）"


class Survey(models.Model):
    title = models.CharField("調查名稱", max_length=200)
    instructions = models.TextField("填報說明", blank=True)
    meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name="公告會議",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    report_item = models.ForeignKey(
        "meetings.ReportItem",
        verbose_name="公告的業務報告項目",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    # links to this survey from minutes (meetings' Attachment.linked): deleted with the survey
    minutes_links = GenericRelation(
        "meetings.Attachment", content_type_field="linked_type", object_id_field="linked_id"
    )
    opens_at = models.DateTimeField("開放填報時間")
    closes_at = models.DateTimeField("截止時間")
    contact = models.CharField("聯絡人", max_length=200, blank=True)
    school_year = models.PositiveSmallIntegerField(
        "學年度", help_text="用來解讀表中只寫月/日的日期，例如 12/25~1/3"
    )
    categories = models.TextField(
        "類型選項", help_text="每行一個，例如：技能研習", default="技能研習"
    )
    window_label = models.CharField("活動期間名稱", max_length=30, default="寒假")
    # the winter-camp form's window; the rules judged are the survey's `SurveyRule` rows
    activity_starts_on = models.DateField("活動期間開始", null=True, blank=True)
    activity_ends_on = models.DateField("活動期間結束", null=True, blank=True)
    registration_before_activity = models.BooleanField("報名須於活動開始前截止", default=True)
    # who files: every school, or only the schools of these districts and/or levels
    # district ids rather than a many-to-many: a handful of numbers read with the survey, so the
    # filing page and the grid ask nothing more of the database
    district_ids = models.JSONField(
        "填報分區", default=list, blank=True, help_text="空白即全部分區"
    )
    levels = models.JSONField(
        "填報學制", default=list, blank=True, help_text='例如 ["elementary"]；空白即全部學制'
    )
    # one answer per district: the convener school's response stands for its district
    filed_by = models.CharField(
        "填報單位", max_length=10, choices=FiledBy.choices, default=FiledBy.SCHOOL,
        help_text="分區召集學校填報：每分區由召集學校（其資訊組長或分區代表）填一份",
    )  # fmt: skip
    is_draft = models.BooleanField(
        "草稿（尚未公布）", default=False,
        help_text="依範本建立的調查先是草稿：教育局檢查欄位後公布，學校才看得到",
    )  # fmt: skip
    reminder_days_before = models.PositiveSmallIntegerField(
        "截止前幾天自動提醒", default=3, help_text="0 表示不自動提醒"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-closes_at", "-id"]
        verbose_name = "調查表"
        verbose_name_plural = "調查表"
        constraints = [
            models.CheckConstraint(
                name="survey_closes_after_opening", condition=Q(closes_at__gt=models.F("opens_at"))
            ),
            models.CheckConstraint(
                name="survey_window_in_order",
                condition=Q(activity_ends_on__gte=models.F("activity_starts_on")),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("signups:survey", args=[self.pk])

    @property
    def category_list(self):
        return [line.strip() for line in self.categories.splitlines() if line.strip()]

    def is_open(self, now=None):
        now = now or timezone.now()
        return not self.is_draft and self.opens_at <= now < self.closes_at

    @property
    def by_district(self):
        return self.filed_by == FiledBy.DISTRICT

    def districts(self):
        """The districts asked (a district-filed survey: one answer each)."""
        found = District.objects.select_related("convener_school")
        return found.filter(pk__in=self.district_ids) if self.district_ids else found

    def schools(self):
        """The schools asked to file this survey; for a district-filed one, the convener schools
        (each files its district's answer)."""
        if self.by_district:
            return School.objects.filter(
                pk__in=self.districts().exclude(convener_school=None).values("convener_school_id")
            )
        found = School.objects.all()
        if self.levels:
            found = found.filter(level__in=self.levels)
        if self.district_ids:
            found = found.filter(district_id__in=self.district_ids)
        return found

    def asks(self, school):
        """Whether `school` is one of those asked to file (reads `school.district`)."""
        if self.by_district:
            return school.district.convener_school_id == school.pk and (
                not self.district_ids or school.district_id in self.district_ids
            )
        if self.levels and school.level not in self.levels:
            return False
        return not self.district_ids or school.district_id in self.district_ids

    def table(self):
        """The survey's table as the engine reads it: ([columns.Column], [columns.Rule])."""
        return (
            [c.as_column() for c in self.columns.all()],
            [r.as_rule() for r in self.table_rules.all()],
        )

    def rules(self, blackouts=None):
        """The winter-camp form's view of the survey's stored rules (`rules.SurveyRules`): the
        rules themselves, plus the window and blackouts on 活動日期 for the page to show.
        `blackouts` is accepted for older callers and ignored: the stored rules are the truth."""
        table, stored = self.table()
        on_activity = [r for r in stored if r.column == "activity"]
        window = next((r for r in on_activity if r.kind == "within"), None)
        choices = next((c.choices for c in table if c.key == "category"), None)
        return rules.SurveyRules(
            school_year=self.school_year,
            categories=tuple(choices if choices is not None else self.category_list),
            window=rules.Period(window.start, window.end, window.label) if window else None,
            blackouts=tuple(
                rules.Period(r.start, r.end, r.label) for r in on_activity if r.kind == "outside"
            ),  # fmt: skip
            registration_before_activity=any(r.kind == "before" for r in stored),
            table_rules=tuple(stored),
        )

    @property
    def is_winter_camp(self):
        return columns.is_winter_camp(self.table()[0])


class SurveyColumn(models.Model):
    """One column of the survey's table, in order: its label, type (`columns.TYPES`), whether it
    must be filled in, help text and the type's options (integer: min/max; choice: choices).
    `key` names the column inside each row's `values` and never changes once rows are filed."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="columns")
    position = models.PositiveSmallIntegerField("順序")
    key = models.CharField("欄位代號", max_length=40)
    label = models.CharField("欄位名稱", max_length=60)
    type = models.CharField("類型", max_length=20, choices=list(columns.TYPES.items()))
    required = models.BooleanField("必填", default=True)
    help_text = models.CharField("填寫說明", max_length=200, blank=True)
    options = models.JSONField("類型選項", default=dict, blank=True)

    class Meta:
        ordering = ["survey", "position", "id"]
        verbose_name = "調查欄位"
        verbose_name_plural = "調查欄位"
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="one_column_per_key"),
        ]

    def __str__(self):
        return f"{self.survey} – {self.label}"

    def as_column(self):
        return columns.Column(self.key, self.label, self.type, self.required, self.help_text,
                              dict(self.options or {}))  # fmt: skip


class SurveyRule(models.Model):
    """One rule of the survey's table (`columns.RULE_KINDS`). `params` holds the rule's
    column keys (`column`, `other`), its period (`start`, `end` as YYYY-MM-DD, `label`) or its
    `limit`, as `columns.Rule` reads them."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="table_rules")
    position = models.PositiveSmallIntegerField("順序", default=0)
    kind = models.CharField("規則", max_length=20, choices=list(columns.RULE_KINDS.items()))
    params = models.JSONField("參數", default=dict, blank=True)

    class Meta:
        ordering = ["survey", "position", "id"]
        verbose_name = "調查規則"
        verbose_name_plural = "調查規則"

    def __str__(self):
        return f"{self.survey} – {self.get_kind_display()}"

    def as_rule(self):
        return rule_of(self.kind, self.params)


def rule_of(kind, params):
    """A stored rule (kind + JSON params) as the `columns.Rule` the engine judges with."""
    p = params or {}
    day = date.fromisoformat
    return columns.Rule(
        kind=kind, column=p.get("column", ""), other=p.get("other", ""),
        start=day(p["start"]) if p.get("start") else None,
        end=day(p["end"]) if p.get("end") else None,
        label=p.get("label", ""), limit=p.get("limit"),
    )  # fmt: skip


def params_of(rule):
    """`columns.Rule` → the JSON params stored on a `SurveyRule`."""
    params = {k: getattr(rule, k) for k in ("column", "other", "label") if getattr(rule, k)}
    if rule.start is not None:
        params |= {"start": rule.start.isoformat(), "end": rule.end.isoformat()}
    if rule.limit is not None:
        params["limit"] = rule.limit
    return params


class Blackout(models.Model):
    """A period inside the activity window when no activity may run (e.g. 除夕及春假)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="blackouts")
    label = models.CharField("名稱", max_length=40)
    starts_on = models.DateField("開始")
    ends_on = models.DateField("結束")

    class Meta:
        ordering = ["starts_on", "id"]
        verbose_name = "不可辦理期間"
        verbose_name_plural = "不可辦理期間"

    def __str__(self):
        return f"{self.label}（{rocdate.format_short(self.starts_on)}～{rocdate.format_short(self.ends_on)}）"


class Status(models.TextChoices):
    NONE = "none", "未填"
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已送出"
    DECLINED = "declined", "無意願"
    RETURNED = "returned", "退回"


ANSWERED = (Status.SUBMITTED, Status.DECLINED)


class Response(models.Model):
    """One school's answer to one survey."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    school = models.ForeignKey(
        "portal.School", verbose_name="學校", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        "狀態", max_length=10, choices=Status.choices, default=Status.NONE, db_index=True
    )
    reopened_until = models.DateTimeField(
        "截止後重新開放至", null=True, blank=True, help_text="教育局為此校重新開放填報的期限"
    )
    return_comment = models.TextField("退回原因", blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField("最後送出時間", null=True, blank=True)
    # The table as the school last typed it when that is not the rows the bureau sees: edits to
    # an answer already sent (kept apart until resubmitted) or a draft with errors. A list of
    # rows, each {field: text as typed}; None when the rows are all there is.
    draft_rows = models.JSONField("未送出的修改", null=True, blank=True, default=None)
    draft_complete = models.BooleanField("修改內容完整", default=True)

    class Meta:
        verbose_name = "學校填報"
        verbose_name_plural = "學校填報"
        constraints = [
            models.UniqueConstraint(fields=["survey", "school"], name="one_response_per_school")
        ]

    def __str__(self):
        return f"{self.survey} – {self.school}"

    @property
    def has_pending_edits(self):
        """Edits kept apart from the rows the bureau sees (saved, not yet sent)."""
        return self.draft_rows is not None

    def is_editable(self, now=None):
        now = now or timezone.now()
        if self.survey.is_open(now):
            return True
        return (
            self.survey.opens_at <= now
            and self.reopened_until is not None
            and now < self.reopened_until
        )


class Gender(models.TextChoices):
    OPEN = "open", "不限"
    GIRLS_ONLY = "girls_only", "女生"
    GIRLS_FIRST = "girls_first", "女生優先"


class Offer(models.Model):
    """One row of a school's table. `values` is the row, typed by the survey's columns
    ({column key: value}, see `columns.py`), and is what every survey reads. The named fields
    are the winter-camp table's columns, still filled for surveys with those columns so the
    older queries and the admin keep working; other surveys leave them empty."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="offers")
    position = models.PositiveIntegerField("順序", default=0)
    values = models.JSONField("內容", default=dict, blank=True)
    category = models.CharField("類型", max_length=40, blank=True)
    course_name = models.CharField("課程名稱", max_length=120, blank=True)
    activity_starts_on = models.DateField("活動日期（起）", null=True, blank=True)
    activity_ends_on = models.DateField("活動日期（迄）", null=True, blank=True)
    venue = models.CharField("活動地點", max_length=120, blank=True)
    fee = models.PositiveIntegerField("費用（新臺幣元，0 為免費）", null=True, blank=True)
    registration_starts_on = models.DateField("報名日期（起）", null=True, blank=True)
    registration_ends_on = models.DateField("報名日期（迄）", null=True, blank=True)
    grade_from = models.PositiveSmallIntegerField("參加年級（起）", null=True, blank=True)
    grade_to = models.PositiveSmallIntegerField("參加年級（迄）", null=True, blank=True)
    gender = models.CharField(
        "招收對象", max_length=12, choices=Gender.choices, default=Gender.OPEN, blank=True
    )
    capacity = models.PositiveIntegerField("人數", null=True, blank=True)

    class Meta:
        ordering = ["response", "position", "id"]
        verbose_name = "開辦課程"
        verbose_name_plural = "開辦課程"
        constraints = [
            models.CheckConstraint(
                name="offer_grades_in_range",
                condition=Q(
                    grade_from__gte=1, grade_to__lte=12, grade_from__lte=models.F("grade_to")
                ),
            ),
            models.CheckConstraint(name="offer_capacity_positive", condition=Q(capacity__gte=1)),
        ]

    def __str__(self):
        return self.course_name or f"第 {self.position} 列"

    def as_values(self):
        return rules.OfferValues(
            category=self.category,
            course_name=self.course_name,
            activity=(self.activity_starts_on, self.activity_ends_on),
            venue=self.venue,
            fee=self.fee,
            registration=(self.registration_starts_on, self.registration_ends_on),
            grades=(self.grade_from, self.grade_to),
            gender=self.gender,
            capacity=self.capacity,
        )


class StatusChange(models.Model):
    """Every change of a response's state (and reopening), never overwritten."""

    class Event(models.TextChoices):
        SAVED = "saved", "儲存草稿"
        SUBMITTED = "submitted", "送出"
        DECLINED = "declined", "回覆無意願"
        RETURNED = "returned", "退回"
        REOPENED = "reopened", "重新開放"
        IMPORTED = "imported", "匯入"

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="changes")
    event = models.CharField("事件", max_length=10, choices=Event.choices)
    old_status = models.CharField("原狀態", max_length=10, choices=Status.choices)
    new_status = models.CharField("新狀態", max_length=10, choices=Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField("說明", blank=True)
    notified_at = models.DateTimeField("已通知學校", null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "狀態變更"
        verbose_name_plural = "狀態變更"

    def __str__(self):
        return f"{self.response}: {self.old_status} → {self.new_status}"


class Submission(models.Model):
    """A version: what the school sent at one submission (who, when, the rows as they were)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="submissions")
    number = models.PositiveIntegerField("版次")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    declined = models.BooleanField("回覆無意願", default=False)
    snapshot = models.JSONField("內容", default=list)

    class Meta:
        ordering = ["response", "number"]
        verbose_name = "送出版本"
        verbose_name_plural = "送出版本"
        constraints = [
            models.UniqueConstraint(fields=["response", "number"], name="one_submission_number")
        ]

    def __str__(self):
        return f"{self.response} 第 {self.number} 版"


class Reminder(models.Model):
    """One reminder to one school. `kind` makes it idempotent: `auto-3d` (the beat task) or
    `manual-20190920` (the bureau's button, at most once a day per school)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="reminders")
    school = models.ForeignKey("portal.School", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("種類", max_length=30)
    created_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField("寄出時間", null=True, blank=True)

    class Meta:
        verbose_name = "填報提醒"
        verbose_name_plural = "填報提醒"
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "school", "kind"], name="one_reminder_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.survey} → {self.school} ({self.kind})"


class SurveyChange(models.Model):
    """One edit of a survey by the bureau: who, when, and each field's old and new value as text
    (dates in ROC form), so a school asking "when did the deadline move?" gets an answer."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="changes")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    fields = models.JSONField("變更內容", default=list, help_text="[{field, label, old, new}]")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "調查修改紀錄"
        verbose_name_plural = "調查修改紀錄"

    def __str__(self):
        return f"{self.survey}：{'、'.join(f['label'] for f in self.fields)}"


class ImportRun(models.Model):
    """One spreadsheet a school uploaded. The file is kept here (not on disk) until the worker has
    judged it, so a worker on another host reads it from the database; the outcome (rows saved,
    or every problem 「第 N 列，欄位 X：…」) stays for the result page."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "處理中"
        SAVED = "saved", "已匯入"
        REFUSED = "refused", "未匯入"

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="imports")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField("檔名", max_length=200, blank=True)
    size = models.PositiveIntegerField("大小（位元組）", default=0)
    data = models.BinaryField("檔案內容", null=True, blank=True, editable=False)
    job = models.OneToOneField(
        "portal.BackgroundJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(
        "結果", max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    rows_saved = models.PositiveIntegerField("匯入列數", default=0)
    problems = models.JSONField("問題", default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "Excel 匯入"
        verbose_name_plural = "Excel 匯入"

    def __str__(self):
        return f"{self.response} – {self.filename}（{self.get_outcome_display()}）"

    def get_absolute_url(self):
        return reverse(
            "signups:import_result",
            args=[self.response.survey_id, self.response.school_id, self.pk],
        )

    # a 5 MB table is judged in seconds; a run pending this long lost its worker (see the docs)
    STUCK_AFTER = timedelta(minutes=15)

    def looks_stuck(self, now=None):
        return self.outcome == self.Outcome.PENDING and (
            (now or timezone.now()) - self.created_at > self.STUCK_AFTER
        )
