"""A survey's table is data: its columns and rules are rows of the survey, and each filed row is
stored typed by those columns."""

from datetime import date

from django.urls import reverse

from signups import columns
from signups.models import Offer
from tests.signups.conftest import GOOD_ROW, table_post


def test_a_winter_camp_survey_stores_its_columns_and_rules(survey):
    table, found = survey.table()
    assert [(c.label, c.type) for c in table] == [
        ("類型", "choice"), ("承辦學校", "school"), ("課程名稱", "text"), ("活動日期", "date_range"),
        ("活動地點", "text"), ("費用", "money"), ("報名日期", "date_range"),
        ("參加年級", "grade_range"), ("人數", "integer")]  # fmt: skip
    assert table[0].choices == ["技能研習", "營隊"]
    assert [(r.kind, r.column, r.start, r.end, r.label) for r in found if r.kind != "before"] == [
        ("within", "activity", date(2020, 1, 21), date(2020, 2, 10), "寒假"),
        ("outside", "activity", date(2020, 1, 23), date(2020, 1, 29), "除夕及春假"),
    ]
    assert [(r.column, r.other) for r in found if r.kind == "before"] == [
        ("registration", "activity")
    ]


def test_a_filed_row_is_stored_typed_by_the_columns(login, coordinator, xindian_school, survey):
    client = login(coordinator)
    client.post(
        reverse("signups:file", args=[survey.pk, xindian_school.pk]), table_post([GOOD_ROW])
    )
    values = Offer.objects.get().values
    assert values == {
        "category": "技能研習", "school": "新店國小", "course_name": "FUN Coding (KODU+RPG)",
        "activity": {"start": "2020-02-03", "end": "2020-02-04"}, "venue": "新店國小", "fee": 0,
        "registration": {"start": "2019-12-25", "end": "2020-01-03"},
        "grades": {"from": 4, "to": 6, "gender": "girls_only"}, "capacity": 20,
    }  # fmt: skip
    table, found = survey.table()
    shown = [columns.show(c, values[c.key], school_year=108) for c in table]
    assert shown == ["技能研習", "新店國小", "FUN Coding (KODU+RPG)", "2/3~4", "新店國小", "免費",
                     "12/25~1/3", "4~6年級 女生", "20"]  # fmt: skip


def test_editing_the_window_moves_the_stored_rule(survey, bureau):
    from signups import services

    fields = {"activity_ends_on": date(2020, 2, 14)}
    services.survey_update(survey=survey, by=bureau, fields=fields,
                           blackouts=[("除夕及春假", date(2020, 1, 23), date(2020, 1, 29))])  # fmt: skip
    survey.refresh_from_db()
    within = [r for r in survey.table()[1] if r.kind == "within"]
    assert [(r.start, r.end) for r in within] == [(date(2020, 1, 21), date(2020, 2, 14))]
