"""signups 0004–0005: the winter-camp surveys made before columns were data get that table's
columns and rules, and every filed row its typed values, without loss."""

from datetime import date, datetime

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = ("signups", "0003_response_keeps_edits_apart_from_the_sent_version")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_the_demo_survey_and_an_older_one_become_columns_rules_and_typed_rows(
    transactional_db, xindian_school
):
    from signups import demo

    seed = demo.load()  # made with today's models, then taken back to before columns were data
    old = _migrate([BEFORE])
    Survey, Blackout, Response, Offer = (
        old.get_model("signups", n) for n in ("Survey", "Blackout", "Response", "Offer")
    )
    school = old.get_model("portal", "School").objects.get(pk=xindian_school.pk)
    summer = Survey.objects.create(
        title="110年度暑假活動開辦調查表", school_year=109, categories="營隊",
        window_label="暑假", activity_starts_on=date(2021, 7, 1),
        activity_ends_on=date(2021, 8, 29), registration_before_activity=False,
        opens_at=timezone.make_aware(datetime(2021, 3, 1)),
        closes_at=timezone.make_aware(datetime(2021, 4, 1)),
    )  # fmt: skip
    Blackout.objects.create(survey=summer, label="颱風假", starts_on=date(2021, 8, 1),
                            ends_on=date(2021, 8, 2))  # fmt: skip
    response = Response.objects.create(survey=summer, school=school, status="submitted")
    Offer.objects.create(
        response=response, position=1, category="營隊", course_name="科學營",
        activity_starts_on=date(2021, 7, 5), activity_ends_on=date(2021, 7, 9), venue="禮堂",
        fee=500, registration_starts_on=date(2021, 6, 1), registration_ends_on=date(2021, 6, 30),
        grade_from=3, grade_to=3, gender="open", capacity=30,
    )  # fmt: skip

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    from signups import columns
    from signups.models import Offer as NowOffer
    from signups.models import Survey as NowSurvey

    seed = NowSurvey.objects.get(pk=seed.pk)
    table, rules = seed.table()
    assert [c.key for c in table] == ["category", "school", "course_name", "activity", "venue",
                                      "fee", "registration", "grades", "capacity"]  # fmt: skip
    assert table[0].choices == ["技能研習", "營隊", "體驗活動"]
    assert [(r.kind, r.label, r.period_text if r.start else "") for r in rules] == [
        ("within", "寒假", "109/1/21~2/10"),
        ("outside", "除夕及春假", "109/1/23~29"),
        ("before", "", ""),
    ]
    offer = NowOffer.objects.get(response__survey=seed)
    shown = [columns.show(c, offer.values[c.key], school_year=108) for c in table]
    assert shown == ["技能研習", "新店國小", "FUN Coding (KODU+RPG)", "2/3~4", "新店國小", "免費",
                     "12/25~1/3", "4~6年級 女生", "20"]  # fmt: skip

    summer = NowSurvey.objects.get(pk=summer.pk)
    table, rules = summer.table()
    assert [(r.kind, r.label) for r in rules] == [("within", "暑假"), ("outside", "颱風假")]
    row = NowOffer.objects.get(response__survey=summer).values
    assert (row["fee"], row["grades"], row["capacity"]) == (500, {"from": 3, "to": 3,
                                                                  "gender": "open"}, 30)  # fmt: skip
    # the typed rows pass the survey's own rules, as they did before the move
    raw = {c.key: columns.show(c, row[c.key], school_year=109) for c in table}
    judged = columns.check_table(table, rules, [raw], school_year=109, school_name="新店國小")
    assert judged.ok and judged.rows == [row]
