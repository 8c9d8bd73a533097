"""Forms: one row of the filing table (judged by rules.clean_row), the table as a formset, and
the bureau's survey form. The school and the status are never form fields: the view sets them."""

import base64
import binascii
from datetime import time

from django import forms

from portal import rocdate
from portal.forms_fields import ROCDateField, ROCDateTimeField
from portal.formsets import ChineseFormSetMixin
from portal.models import District, SchoolLevel

from . import columns, rules
from .models import Blackout, FiledBy, Survey, SurveyColumn

GRADE_CHOICES = [("", "請選擇")] + [(str(g), str(g)) for g in range(1, 13)]
GENDER_CHOICES = list(rules.GENDERS.items())
TEXT_FIELDS = ("category", "course_name", "activity", "venue", "fee", "registration",
               "grade_from", "grade_to", "gender", "capacity")  # fmt: skip


class OfferForm(forms.Form):
    category = forms.CharField(label="類型", required=False, widget=forms.Select)
    course_name = forms.CharField(label="課程名稱", required=False, max_length=120)
    activity = forms.CharField(
        label="活動日期", required=False, max_length=40, help_text="例如 2/3~4 或 109/2/3"
    )
    venue = forms.CharField(label="活動地點", required=False, max_length=120)
    fee = forms.CharField(label="費用", required=False, max_length=20, help_text="免費或金額（元）")
    registration = forms.CharField(
        label="報名日期", required=False, max_length=40, help_text="例如 12/25~1/3"
    )
    grade_from = forms.CharField(
        label="年級（起）", required=False, widget=forms.Select(choices=GRADE_CHOICES)
    )
    grade_to = forms.CharField(
        label="年級（迄）", required=False, widget=forms.Select(choices=GRADE_CHOICES)
    )
    gender = forms.CharField(
        label="招收對象",
        required=False,
        initial="open",
        widget=forms.Select(choices=GENDER_CHOICES),
    )
    capacity = forms.CharField(
        label="人數",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, survey_rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey_rules = survey_rules
        categories = list(survey_rules.categories)
        self.fields["category"].widget.choices = [(c, c) for c in categories]
        self.fields["category"].initial = categories[0] if categories else ""
        for name in ("course_name", "venue", "activity", "registration", "fee"):
            self.fields[name].widget.attrs.setdefault("autocomplete", "off")
        self.values = None

    def has_changed(self):
        """A row counts as filled in when any typed field is; the order number, the selects'
        defaults and the delete box alone do not make a blank row worth validating."""
        return any(
            str(self[name].value() or "").strip()
            for name in ("course_name", "activity", "venue", "fee", "registration", "capacity")
        )

    def full_clean(self):
        super().full_clean()
        # tie each error to its field for screen readers
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"{self[name].auto_id}_error"}
                )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        result = rules.clean_row({k: data.get(k, "") for k in TEXT_FIELDS}, self.survey_rules)
        for name, messages in result.errors.items():
            for message in messages:
                self.add_error(name, message)
        self.values = result.values
        return data


def initial_of(offer, school_year):
    return initial_of_values(offer.as_values(), school_year)


def initial_of_values(values, school_year):
    """One row's values as the school would type them (how a kept edit is shown back)."""
    short = rules.format_range_in_year
    return {
        "category": values.category,
        "course_name": values.course_name,
        "activity": short(*values.activity, school_year),
        "venue": values.venue,
        "fee": "免費" if not values.fee else str(values.fee),
        "registration": short(*values.registration, school_year),
        "grade_from": str(values.grades[0]),
        "grade_to": str(values.grades[1]),
        "gender": values.gender,
        "capacity": str(values.capacity),
    }


def formset_data(rows, extra=0):
    """The filing formset's POST body for `rows` (dicts of TEXT_FIELDS), so a kept draft is
    judged again – and its errors shown – exactly as when it was typed."""
    total = len(rows) + extra
    data = {"rows-TOTAL_FORMS": str(total), "rows-INITIAL_FORMS": "0",
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for i, row in enumerate(rows):
        for name in TEXT_FIELDS:
            data[f"rows-{i}-{name}"] = str(row.get(name, ""))
        data[f"rows-{i}-ORDER"] = str(i + 1)
    for i in range(len(rows), total):
        data[f"rows-{i}-gender"] = "open"
    return data


class BaseOfferFormSet(ChineseFormSetMixin, forms.BaseFormSet):
    delete_label = "刪除此列"
    too_many = "每校最多 %(num)d 列，送出的表格超過了。"

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].label = "順序"
            form.fields["ORDER"].widget.attrs.update({"class": "order-input", "min": "1"})

    def rows(self):
        """The kept rows' values in the order the school arranged them."""
        return [f.values for f in self.ordered_forms if f.values is not None]

    def typed_rows(self):
        """The kept rows as typed (valid or not), in the school's order, for a draft kept with
        its errors. Blank rows and rows marked 刪除 are left out."""
        forms_ = [f for f in self.forms if f.has_changed() and not self._should_delete_form(f)]

        def order(item):
            i, f = item
            try:
                return (0, int(f["ORDER"].value()), i)
            except (TypeError, ValueError):
                return (1, 0, i)

        forms_ = [f for _, f in sorted(enumerate(forms_), key=order)]
        return [{name: str(f[name].value() or "") for name in TEXT_FIELDS} for f in forms_]


def offer_formset(survey_rules, *, data=None, offers=(), extra=1):
    initial = [initial_of(o, survey_rules.school_year) for o in offers]
    formset_class = forms.formset_factory(
        OfferForm, formset=BaseOfferFormSet, extra=extra, can_delete=True, can_order=True,
        max_num=columns.MAX_ROWS, absolute_max=columns.MAX_ROWS, validate_max=True,
    )  # fmt: skip
    return formset_class(
        data=data, initial=initial, prefix="rows", form_kwargs={"survey_rules": survey_rules}
    )


SURVEY_FIELDS = ["title", "instructions", "meeting", "report_item", "opens_at", "closes_at",
                 "contact", "school_year", "categories", "window_label", "activity_starts_on",
                 "activity_ends_on", "registration_before_activity", "reminder_days_before",
                 "filed_by"]  # fmt: skip


class SurveyFieldsForm(forms.ModelForm):
    """The survey's own fields and the checks shared by creating and editing it."""

    opens_at = ROCDateTimeField(label="開放填報時間", help_text="民國年與時間，例如 115/9/10 12:00")
    closes_at = ROCDateTimeField(
        label="截止時間",
        default_time=time(17, 0),
        help_text="民國年與時間，例如 115/9/23 17:00（只寫日期即下午 5 時）",
    )
    activity_starts_on = ROCDateField(label="活動期間開始")
    activity_ends_on = ROCDateField(label="活動期間結束")

    class Meta:
        model = Survey
        fields = SURVEY_FIELDS
        widgets = {
            "categories": forms.Textarea(attrs={"rows": 3}),
            "instructions": forms.Textarea(attrs={"rows": 4}),
            "filed_by": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report_item"].queryset = self.fields["report_item"].queryset.select_related(
            "meeting"
        )
        for name in ("meeting", "report_item"):
            self.fields[name].empty_label = "請選擇（可不填）"
        # a form posted without it (older pages, scripts) keeps who files as it was
        self.fields["filed_by"].required = False

    def clean_filed_by(self):
        filed_by = self.cleaned_data.get("filed_by") or self.instance.filed_by or FiledBy.SCHOOL
        if self.instance.pk:
            from .services import SignupError, refuse_filer_change

            try:
                refuse_filer_change(self.instance, filed_by)
            except SignupError as exc:
                raise forms.ValidationError(str(exc)) from None
        return filed_by

    def _lines(self, name):
        # browsers post textareas with CRLF; stored text uses LF, so an untouched field is equal
        return self.cleaned_data.get(name, "").replace("\r\n", "\n").replace("\r", "\n")

    def clean_instructions(self):
        return self._lines("instructions")

    def clean_categories(self):
        return self._lines("categories")

    def posted_school_year(self):
        """The school year typed in this form (bare dates like 1/23 are read in it)."""
        try:
            return int(self.data.get(self.add_prefix("school_year")) or 0) or None
        except ValueError:
            return None

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "截止時間須晚於開放時間。")
        start, end = data.get("activity_starts_on"), data.get("activity_ends_on")
        if start and end and end < start:
            self.add_error("activity_ends_on", "活動期間結束日不可早於開始日。")
        return data


class SurveyForm(SurveyFieldsForm):
    """The bureau's new-survey form. Blackouts are lines like 「109/1/23~1/29 除夕及春假」."""

    blackouts_text = forms.CharField(
        label="不可辦理期間",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一段：日期區間、空格、名稱，例如「109/1/23~1/29 除夕及春假」",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.blackouts = []

    def clean_blackouts_text(self):
        text = self.cleaned_data.get("blackouts_text", "")
        blackouts = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            dates, _, label = line.strip().partition(" ")
            try:
                start, end = rocdate.parse_date_range(dates, school_year=self.posted_school_year())
            except (rocdate.ROCDateError, ValueError) as exc:
                raise forms.ValidationError(f"第 {number} 行：{exc}") from None
            blackouts.append((label.strip() or "不可辦理期間", start, end))
        self.blackouts = blackouts
        return text


class SurveyEditForm(SurveyFieldsForm):
    """Editing a survey: the same fields and checks; blackouts are an inline formset."""

    def clean(self):
        data = super().clean()
        # the inputs show minutes: a time left as shown keeps its seconds, so it is no change
        for name in ("opens_at", "closes_at"):
            old, new = getattr(self.instance, name), data.get(name)
            if old and new and old.replace(second=0, microsecond=0) == new:
                data[name] = old
        return data


class BlackoutForm(forms.ModelForm):
    starts_on = ROCDateField(label="開始", help_text="例如 109/1/23，或在學年度內寫 1/23")
    ends_on = ROCDateField(label="結束", help_text="例如 109/1/29")

    class Meta:
        model = Blackout
        fields = ["label", "starts_on", "ends_on"]

    def __init__(self, *args, school_year=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("starts_on", "ends_on"):
            self.fields[name].school_year = school_year
        self.fields["label"].help_text = "例如：除夕及春假"
        if not self.instance.pk:
            # the blank extra period may stay blank: no required marks; `clean` asks for all
            # three fields once any of them is filled in
            for field in self.fields.values():
                field.required = False

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not self.errors:
            for name in ("label", "starts_on", "ends_on"):
                if not data.get(name):
                    self.add_error(name, "新增一段期間時，名稱、開始與結束都要填寫。")
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", "結束日不可早於開始日。")
        return data


class BaseBlackoutFormSet(ChineseFormSetMixin, forms.BaseInlineFormSet):
    delete_label = "刪除這段期間"
    too_many = "最多 %(num)d 段不可辦理期間。"

    def periods(self):
        """The kept periods as (label, start, end), in date order."""
        kept = [
            f.cleaned_data for f in self.forms if f.cleaned_data and f not in self.deleted_forms
        ]
        return sorted(
            ((d["label"], d["starts_on"], d["ends_on"]) for d in kept), key=lambda p: (p[1], p[2])
        )


def blackout_formset(survey, *, data=None, school_year=None):
    formset_class = forms.inlineformset_factory(
        Survey, Blackout, form=BlackoutForm, formset=BaseBlackoutFormSet, extra=1,
        can_delete=True, max_num=20, absolute_max=20, validate_max=True,
    )  # fmt: skip
    return formset_class(
        data=data, instance=survey, prefix="blackouts",
        form_kwargs={"school_year": school_year or survey.school_year},
    )  # fmt: skip


class TemplateUploadForm(forms.Form):
    """The bureau's .xlsx template, read into a proposal to review; the file travels in a hidden
    field between the preview and 建立 (templates are a few KB; the limit keeps it so)."""

    MAX_BYTES = 256 * 1024

    file = forms.FileField(label="調查表範本（.xlsx）", required=False,
                           help_text="教育局原本 Email 附件的 Excel 調查表，256 KB 以內")  # fmt: skip
    title = forms.CharField(label="調查名稱", max_length=200, required=False,
                            help_text="留空則用範本的標題列")  # fmt: skip
    opens_at = ROCDateTimeField(label="開放填報時間", required=False,
                                help_text="民國年與時間，留空為現在，例如 115/9/10 12:00")  # fmt: skip
    closes_at = ROCDateTimeField(label="截止時間", required=False, default_time=time(17, 0),
                                 help_text="民國年與時間，例如 115/9/23 17:00（建立時必填）")  # fmt: skip

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > self.MAX_BYTES:
                self.add_error("file", "範本檔案超過 256 KB。")
                return data
            data["bytes"] = upload.read()
        elif self.data.get("kept"):
            try:
                data["bytes"] = base64.b64decode(self.data["kept"], validate=True)
            except (binascii.Error, ValueError):
                self.add_error("file", "請重新選擇範本檔案。")
        else:
            self.add_error("file", "請選擇範本檔案（.xlsx）。")
        return data


# --- any survey's table: one field per column, judged by columns.py ---------------------------


class RowForm(forms.Form):
    """One row of a survey's table: a text field per column (a select for `choice`). Each value
    is read by its column's type and the row judged by the survey's rules, in `columns.py`; the
    table's own rules (most rows, a total) are judged by the formset."""

    # the district's schools, offered to a district-filed survey's school column (file.html)
    SCHOOL_LIST = "district-schools"

    def __init__(self, *args, table, table_rules, school_year, school_name="", schools=None,
                 **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.table, self.table_rules = table, table_rules
        self.school_year, self.school_name, self.schools = school_year, school_name, schools
        for column in table:
            if column.type == "choice":
                field = forms.CharField(required=False, widget=forms.Select(
                    choices=[("", "請選擇")] + [(c, c) for c in column.choices]))  # fmt: skip
            else:
                field = forms.CharField(required=False, max_length=columns.MAX_TEXT)
                field.widget.attrs["autocomplete"] = "off"
                if column.type in ("integer", "money"):
                    field.widget.attrs["inputmode"] = "numeric"
            field.label, field.help_text = column.label, column.help
            if column.type == "school" and school_name:
                field.widget.attrs["placeholder"] = school_name
            if column.type == "school" and schools is not None:
                # a typed name stays visible (and refused) as typed, which a <select> could not do
                field.widget.attrs.update({"list": self.SCHOOL_LIST,
                                           "placeholder": schools.convener[1]})  # fmt: skip
            self.fields[column.key] = field
        self.values = None

    def raw(self):
        return {c.key: str(self[c.key].value() or "") for c in self.table}

    def has_changed(self):
        """Filled in when a column other than the school (which defaults to it) has text."""
        return any(v.strip() for k, v in self.raw().items()
                   if next(c for c in self.table if c.key == k).type != "school")  # fmt: skip

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"{self[name].auto_id}_error"}
                )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        row_rules = [r for r in self.table_rules if r.kind not in ("max_rows", "total")]
        result = columns.check_table(self.table, row_rules, [self.raw()],
                                     school_year=self.school_year, school_name=self.school_name,
                                     schools=self.schools)  # fmt: skip
        for problem in result.problems:
            self.add_error(problem.key if problem.key in self.fields else None, problem.message)
        self.values = result.rows[0] if result.ok else None
        return data


class BaseRowFormSet(BaseOfferFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [f.values for f in self.ordered_forms if f.values is not None]
        first = self.forms[0] if self.forms else self.empty_form
        table_rules = [r for r in first.table_rules if r.kind in ("max_rows", "total")]
        for problem in columns.judge_rows(first.table, table_rules, kept):
            raise forms.ValidationError(str(problem))

    def typed_rows(self):
        forms_ = [f for f in self.forms if f.has_changed() and not self._should_delete_form(f)]

        def order(item):
            i, f = item
            try:
                return (0, int(f["ORDER"].value()), i)
            except (TypeError, ValueError):
                return (1, 0, i)

        return [f.raw() for _, f in sorted(enumerate(forms_), key=order)]


def initial_of_row(table, values, school_year):
    """A stored row as the school typed it."""
    return {c.key: columns.show(c, values.get(c.key), school_year=school_year) for c in table}


def row_formset(survey, *, data=None, offers=(), extra=1, school_name="", schools=None):
    table, table_rules = survey.table()
    initial = [initial_of_row(table, o.values, survey.school_year) for o in offers]
    for row, offer in zip(initial, offers, strict=True):
        for column in table:  # a school renamed since: its row shows (and keeps) today's name
            code = columns.school_code(offer.values.get(column.key))
            if schools is not None and code and schools.name_of(code):
                row[column.key] = schools.name_of(code)
    formset_class = forms.formset_factory(
        RowForm, formset=BaseRowFormSet, extra=extra, can_delete=True, can_order=True,
        max_num=columns.MAX_ROWS, absolute_max=columns.MAX_ROWS, validate_max=True,
    )  # fmt: skip
    kwargs = {"table": table, "table_rules": table_rules, "school_year": survey.school_year,
              "school_name": school_name, "schools": schools}  # fmt: skip
    return formset_class(data=data, initial=initial, prefix="rows", form_kwargs=kwargs)


def row_formset_data(table, rows, extra=0):
    """The POST body of the table formset for kept rows ({key: text})."""
    total = len(rows) + extra
    data = {"rows-TOTAL_FORMS": str(total), "rows-INITIAL_FORMS": "0",
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for i, row in enumerate(rows):
        for column in table:
            data[f"rows-{i}-{column.key}"] = str(row.get(column.key, ""))
        data[f"rows-{i}-ORDER"] = str(i + 1)
    return data


class ColumnForm(forms.ModelForm):
    """One column in the bureau's review: its type, required, help text and the type's options
    (a choice's options one a line; an integer's bounds)."""

    choices_text = forms.CharField(label="選項（每行一個）", required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    minimum = forms.IntegerField(label="最小值", required=False)
    maximum = forms.IntegerField(label="最大值", required=False)

    class Meta:
        model = SurveyColumn
        fields = ["type", "required", "help_text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = self.instance.options or {}
        self.fields["choices_text"].initial = "\n".join(options.get("choices", []))
        self.fields["minimum"].initial = options.get("min")
        self.fields["maximum"].initial = options.get("max")

    def clean(self):
        data = super().clean()
        kind = data.get("type")
        choices = [c.strip() for c in (data.get("choices_text") or "").splitlines() if c.strip()]
        if kind == "choice" and not choices:
            self.add_error(
                "choices_text", f"「{self.instance.label}」是選項欄位，請至少填一個選項。"
            )
        low, high = data.get("minimum"), data.get("maximum")
        if low is not None and high is not None and low > high:
            self.add_error("maximum", "最大值不可小於最小值。")
        options = {}
        if kind == "choice":
            options["choices"] = choices
        if kind == "integer":
            options |= {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        data["options"] = options
        return data


def column_formset(survey, *, data=None):
    # the survey's own columns only: no new ones from a hostile TOTAL_FORMS (edit_only), and no
    # more forms built and shown than there are columns (absolute_max)
    queryset = survey.columns.order_by("position")
    count = max(len(queryset), 1)
    formset_class = forms.modelformset_factory(
        SurveyColumn, form=ColumnForm, extra=0, edit_only=True, max_num=count, absolute_max=count
    )
    return formset_class(data=data, queryset=queryset, prefix="columns")


class AudienceForm(forms.Form):
    """Who files: every school, or those of some districts and/or levels (國小 / 國中), or one
    answer per district by its convener school."""

    districts = forms.MultipleChoiceField(label="填報分區（不選即全部）", required=False,
                                          widget=forms.CheckboxSelectMultiple)  # fmt: skip
    levels = forms.MultipleChoiceField(label="填報學制（不選即全部）", required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       choices=SchoolLevel.choices)  # fmt: skip

    filed_by = forms.ChoiceField(label="填報單位", choices=FiledBy.choices, required=False,
                                 widget=forms.RadioSelect,
                                 help_text="分區召集學校填報：每分區一份，學制不適用")  # fmt: skip

    def __init__(self, *args, survey, **kwargs):
        kwargs.setdefault("initial", {"districts": [str(i) for i in survey.district_ids],
                                      "levels": list(survey.levels),
                                      "filed_by": survey.filed_by})  # fmt: skip
        super().__init__(*args, prefix="audience", **kwargs)
        self.survey = survey
        self.fields["districts"].choices = [
            (str(d.pk), d.name) for d in District.objects.order_by("position")
        ]

    def clean_districts(self):
        return sorted(int(i) for i in self.cleaned_data["districts"])

    def clean_filed_by(self):
        return self.cleaned_data.get("filed_by") or self.survey.filed_by


DATE_TYPES = ("date", "date_range")
NUMBER_TYPES = ("integer", "money")
KIND_FITS = {"within": DATE_TYPES, "outside": DATE_TYPES, "before": DATE_TYPES,
             "total": NUMBER_TYPES}  # fmt: skip


# the fields each kind of rule uses; the form refuses a filled field its kind does not use
RULE_KIND_FIELDS = {
    "within": ("column", "starts_on", "ends_on", "label"),
    "outside": ("column", "starts_on", "ends_on", "label"),
    "before": ("column", "other"),
    "max_rows": ("limit",),
    "total": ("column", "limit"),
}
RULE_GROUPS = (("欄位", ("column", "other")), ("期間", ("starts_on", "ends_on", "label")),
               ("上限", ("limit",)))  # fmt: skip


def kinds_using(names):
    """The kinds (in RULE_KINDS' order) that use any of the fields `names`."""
    return [k for k in columns.RULE_KINDS if set(RULE_KIND_FIELDS[k]) & set(names)]


def uses_words(kinds):
    """Which kinds use a field, in the bureau's words: 僅「須早於另一欄」使用."""
    unused = [k for k in columns.RULE_KINDS if k not in kinds]

    def quoted(keys):
        return "".join(f"「{columns.RULE_KINDS[k]}」" for k in keys)

    if len(unused) < len(kinds):
        return f"除{quoted(unused)}外都使用"
    return f"僅{quoted(kinds)}使用"


class RuleForm(forms.Form):
    """One rule of the survey's table as the bureau edits it: its kind, the column(s) it judges
    (only this survey's columns of a fitting type), the period in ROC dates, its name, a limit.
    The fields are grouped and each marked with the kinds that use it; a filled field the chosen
    kind does not use is refused, not dropped unseen (static/signups/rules.js hides and leaves
    unsent the fields a chosen kind does not use). `rule` is the `columns.Rule` it makes."""

    kind = forms.ChoiceField(label="規則種類", required=False,
                             choices=[("", "請選擇"), *columns.RULE_KINDS.items()])  # fmt: skip
    column = forms.ChoiceField(
        label="欄位", required=False,
        help_text="期間規則與「須早於另一欄」選日期欄位；合計選整數或金額欄位",
        error_messages={"invalid_choice": "請從清單中選擇本調查的欄位。"},
    )  # fmt: skip
    other = forms.ChoiceField(
        label="須早於哪一欄開始", required=False, help_text="上一格的欄位須在這一欄開始前截止",
        error_messages={"invalid_choice": "請從清單中選擇本調查的日期欄位。"},
    )  # fmt: skip
    starts_on = ROCDateField(label="期間開始", required=False,
                             help_text="例如 109/1/21，或在學年度內寫 1/21")  # fmt: skip
    ends_on = ROCDateField(label="期間結束", required=False, help_text="例如 109/2/10")
    label = forms.CharField(label="期間名稱", max_length=40, required=False,
                            help_text="例如：寒假、除夕及春假")  # fmt: skip
    limit = forms.IntegerField(label="上限", required=False, help_text="正整數")

    def __init__(self, *args, table, school_year, **kwargs):
        super().__init__(*args, **kwargs)
        self.table = {c.key: c for c in table}
        dates = [(c.key, c.label) for c in table if c.type in DATE_TYPES]
        numbers = [(c.key, c.label) for c in table if c.type in NUMBER_TYPES]
        self.fields["column"].choices = [("", "（不選）"), ("日期欄位", dates),
                                         ("數字欄位", numbers)]  # fmt: skip
        self.fields["other"].choices = [("", "（不選）"), *dates]
        for name in ("starts_on", "ends_on"):
            self.fields[name].school_year = school_year
        # a field's own hint says which kinds use it where its group's legend does not
        self.uses = {}
        for _, names in RULE_GROUPS:
            for name in names:
                if kinds_using([name]) != kinds_using(names):
                    self.uses[name] = uses_words(kinds_using([name]))
        for name, field in self.fields.items():
            ids = [f"{self[name].auto_id}_{part}" for part, shown in
                   (("helptext", field.help_text), ("uses", name in self.uses)) if shown]  # fmt: skip
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def groups(self):
        """The kind-dependent fields in groups, for the template: (legend, which kinds use the
        group, the kinds' keys, [(bound field, its own uses hint, its kinds' keys)])."""
        return [(legend, uses_words(kinds_using(names)), " ".join(kinds_using(names)),
                 [(self[n], self.uses.get(n, ""), " ".join(kinds_using([n]))) for n in names])
                for legend, names in RULE_GROUPS]  # fmt: skip

    def full_clean(self):
        super().full_clean()
        # tie each error to its field for screen readers, keeping its hints described too
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                ids = [f"{self[name].auto_id}_error", *attrs.get("aria-describedby", "").split()]
                attrs.update({"aria-invalid": "true", "aria-describedby": " ".join(ids)})

    def _column(self, name, kind, wanted):
        """The chosen column's key, or an error saying what the rule needs."""
        key = self.cleaned_data.get(name)
        if not key:
            what = "日期" if wanted == DATE_TYPES else "整數或金額"
            self.add_error(name, f"「{columns.RULE_KINDS[kind]}」要選一個{what}欄位。")
            return ""
        column = self.table[key]
        if column.type not in wanted:
            what = "日期或日期區間" if wanted == DATE_TYPES else "整數或金額"
            self.add_error(name, f"「{column.label}」是{columns.TYPES[column.type]}欄位，"
                                 f"「{columns.RULE_KINDS[kind]}」只能用在{what}欄位。")  # fmt: skip
            return ""
        return key

    def _positive_limit(self, what):
        limit = self.cleaned_data.get("limit")
        if "limit" in self.errors:
            return None
        if limit is None:
            self.add_error("limit", f"請填寫{what}。")
        elif limit <= 0:
            self.add_error("limit", f"{what}須為正整數（至少 1）。")
        elif limit > columns.MAX_INTEGER:
            self.add_error("limit", f"{what}不可超過 {columns.MAX_INTEGER:,}。")
        else:
            return limit
        return None

    def _refuse_unused(self, kind):
        """A field filled in that `kind` does not use would be dropped unseen: say so instead
        (in place of any complaint about what was typed there)."""
        for _, names in RULE_GROUPS:
            for field in names:
                typed = str(self[field].value() or "").strip()
                if field in RULE_KIND_FIELDS[kind] or not typed:
                    continue
                self._errors.pop(field, None)
                self.add_error(field, f"「{columns.RULE_KINDS[kind]}」不用填「"
                                      f"{self.fields[field].label}」，請清空這一格或改選規則種類。")  # fmt: skip

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        self.rule = None
        if not kind:
            if "kind" not in self.errors:
                self.add_error("kind", "請選擇規則種類。")
            return data
        name = columns.RULE_KINDS[kind]
        self._refuse_unused(kind)
        if kind in ("within", "outside"):
            key = self._column("column", kind, DATE_TYPES)
            start, end = data.get("starts_on"), data.get("ends_on")
            for field, value, word in (("starts_on", start, "開始"), ("ends_on", end, "結束")):
                if value is None and field not in self.errors:
                    self.add_error(field, f"「{name}」要填期間{word}日。")
            if start and end and end < start:
                self.add_error("ends_on", "期間結束日不可早於開始日。")
            if not self.errors:
                self.rule = columns.Rule(kind, key, start=start, end=end,
                                         label=data.get("label", "").strip())  # fmt: skip
        elif kind == "before":
            key = self._column("column", kind, DATE_TYPES)
            other = self._column("other", kind, DATE_TYPES)
            if key and other and key == other:
                self.add_error(
                    "other", f"「{self.table[key].label}」不能早於自己，請選另一個日期欄位。"
                )
            if not self.errors:
                self.rule = columns.Rule(kind, key, other=other)
        elif kind == "total":
            key = self._column("column", kind, NUMBER_TYPES)
            limit = self._positive_limit("合計上限")
            if not self.errors:
                self.rule = columns.Rule(kind, key, limit=limit)
        elif kind == "max_rows":
            limit = self._positive_limit("列數上限")
            if not self.errors:
                self.rule = columns.Rule(kind, limit=limit)
        return data


def initial_of_rule(rule):
    return {"kind": rule.kind, "column": rule.column, "other": rule.other,
            "starts_on": rule.start, "ends_on": rule.end, "label": rule.label,
            "limit": rule.limit}  # fmt: skip


MAX_RULES = 30


class BaseRuleFormSet(ChineseFormSetMixin, forms.BaseFormSet):
    delete_label = "刪除這條規則"
    too_many = "每個調查最多 %(num)d 條規則。"

    def rules(self):
        """The kept rules (`columns.Rule`), in the page's order; the blank new one is skipped."""
        return [f.rule for f in self.forms
                if f not in self.deleted_forms and getattr(f, "rule", None) is not None]  # fmt: skip


def rule_formset(survey, *, data=None):
    table, found = survey.table()
    # the blank new rule has nothing to remove: no delete box on it (can_delete_extra)
    formset_class = forms.formset_factory(
        RuleForm, formset=BaseRuleFormSet, extra=1, can_delete=True, can_delete_extra=False,
        max_num=MAX_RULES, absolute_max=MAX_RULES, validate_max=True,
    )  # fmt: skip
    return formset_class(
        data=data, initial=[initial_of_rule(r) for r in found], prefix="rules",
        form_kwargs={"table": table, "school_year": survey.school_year},
    )  # fmt: skip
