"""A winter-camp survey like the seed's, open now, and helpers to post the filing table."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from signups import services


@pytest.fixture
def survey(db, bureau):
    now = timezone.now()
    return services.survey_create(
        by=bureau,
        title="109年度寒假青少年休閒育樂活動開辦調查表",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10),
        school_year=108,
        categories="技能研習\n營隊",
        window_label="寒假",
        activity_starts_on=date(2020, 1, 21),
        activity_ends_on=date(2020, 2, 10),
        blackouts=[("除夕及春假", date(2020, 1, 23), date(2020, 1, 29))],
    )


GOOD_ROW = {
    "category": "技能研習",
    "course_name": "FUN Coding (KODU+RPG)",
    "activity": "2/3~4",
    "venue": "新店國小",
    "fee": "免費",
    "registration": "12/25~1/3",
    "grade_from": "4",
    "grade_to": "6",
    "gender": "girls_only",
    "capacity": "20",
}


def table_post(rows, action="save", initial=0, **extra):
    """The POST body of the filing formset (prefix rows) for `rows` (dicts of GOOD_ROW's keys)."""
    data = {
        "rows-TOTAL_FORMS": str(len(rows)),
        "rows-INITIAL_FORMS": str(initial),
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "1000",
        "action": action,
        **extra,
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"rows-{i}-{key}"] = value
        data.setdefault(f"rows-{i}-ORDER", str(i + 1))
    return data
