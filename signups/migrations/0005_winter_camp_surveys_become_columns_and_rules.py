"""Every survey made before columns were data is a winter-camp table: give it that table's
columns and its date rules (window, blackouts, 報名 before 活動) as rows, and every filed row its
typed `values`. Safe to run twice (only surveys without columns and rows without values are
touched); going back leaves them, as the named fields were kept. Written out here rather than imported: a migration must not change when the
app's code does."""

from django.db import migrations

WINTER_COLUMNS = [
    # key, label, type, required, help, options (類型's choices are the survey's categories)
    ("category", "類型", "choice", True, "", None),
    ("school", "承辦學校", "school", False, "", {}),
    ("course_name", "課程名稱", "text", True, "", {}),
    ("activity", "活動日期", "date_range", True, "例如 2/3~4 或 109/2/3", {}),
    ("venue", "活動地點", "text", True, "", {}),
    ("fee", "費用", "money", True, "免費或金額（元）", {}),
    ("registration", "報名日期", "date_range", True, "例如 12/25~1/3", {}),
    ("grades", "參加年級", "grade_range", True, "例如 4~6年級 女生", {}),
    ("capacity", "人數", "integer", True, "", {"min": 1, "max": 10_000}),
]


def _span(start, end):
    return {"start": start.isoformat(), "end": end.isoformat()}


def forwards(apps, schema_editor):
    Survey = apps.get_model("signups", "Survey")
    SurveyColumn = apps.get_model("signups", "SurveyColumn")
    SurveyRule = apps.get_model("signups", "SurveyRule")
    Offer = apps.get_model("signups", "Offer")
    for survey in Survey.objects.filter(columns__isnull=True).prefetch_related("blackouts"):
        categories = [c.strip() for c in survey.categories.splitlines() if c.strip()]
        SurveyColumn.objects.bulk_create(
            SurveyColumn(
                survey=survey, position=i, key=key, label=label, type=kind, required=required,
                help_text=help_text,
                options={"choices": categories or ["技能研習"]} if options is None else options,
            )
            for i, (key, label, kind, required, help_text, options) in enumerate(WINTER_COLUMNS, 1)
        )  # fmt: skip
        rules = []
        if survey.activity_starts_on and survey.activity_ends_on:
            rules.append(("within", {"column": "activity", "label": survey.window_label,
                                     **_span(survey.activity_starts_on, survey.activity_ends_on)}))  # fmt: skip
        for b in survey.blackouts.order_by("starts_on", "id"):
            rules.append(("outside", {"column": "activity", "label": b.label,
                                      **_span(b.starts_on, b.ends_on)}))  # fmt: skip
        if survey.registration_before_activity:
            rules.append(("before", {"column": "registration", "other": "activity"}))
        SurveyRule.objects.bulk_create(
            SurveyRule(survey=survey, position=i, kind=kind, params=params)
            for i, (kind, params) in enumerate(rules, 1)
        )
    offers = Offer.objects.filter(values={}).select_related("response__school")
    for offer in offers.iterator(chunk_size=500):
        offer.values = {
            "category": offer.category,
            "school": offer.response.school.name,
            "course_name": offer.course_name,
            "activity": _span(offer.activity_starts_on, offer.activity_ends_on),
            "venue": offer.venue,
            "fee": offer.fee or 0,
            "registration": _span(offer.registration_starts_on, offer.registration_ends_on),
            "grades": {"from": offer.grade_from, "to": offer.grade_to, "gender": offer.gender},
            "capacity": offer.capacity,
        }
        offer.save(update_fields=["values"])


class Migration(migrations.Migration):
    dependencies = [("signups", "0004_survey_columns_rules_and_typed_rows")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
