"""A form with a row per entry says in its management form how many rows it sends. Django builds
and shows up to max_num + 1 000 of them whatever is really sent, so one POST claiming 2**31 rows
rendered 1 200 empty rows (megabytes, seconds of a worker) before saying "too many". Each such
form builds at most as many rows as it may keep, and says so in Chinese."""

import pytest
from django.urls import reverse

from signups.columns import MAX_ROWS
from signups.models import SurveyColumn

pytestmark = pytest.mark.django_db

HUGE = str(2**31)


def management(prefix, total):
    return {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


def test_a_table_claiming_two_billion_rows_builds_no_more_than_a_school_may_file(world, client):
    survey, school = world.survey, world.xindian
    client.force_login(world.people["coordinator"])
    url = reverse("signups:file", args=[survey.pk, school.pk])
    response = client.post(url, {**management("rows", HUGE), "action": "save"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f"每校最多 {MAX_ROWS} 列" in body
    assert body.count('name="rows-') <= (MAX_ROWS + 1) * 30, "rows built past the limit"
    assert f'name="rows-{MAX_ROWS}-' not in body


def test_the_columns_page_neither_adds_columns_nor_builds_forms_for_them(world, client):
    survey = world.survey
    client.force_login(world.people["bureau"])
    before = list(SurveyColumn.objects.filter(survey=survey).values_list("pk", flat=True))
    response = client.post(
        reverse("signups:columns", args=[survey.pk]), management("columns", HUGE)
    )
    body = response.content.decode()
    assert f'name="columns-{len(before)}-' not in body
    assert list(SurveyColumn.objects.filter(survey=survey).values_list("pk", flat=True)) == before


def test_a_policy_draft_claiming_two_billion_rules_builds_at_most_twenty(world, client):
    client.force_login(world.people["bureau"])
    response = client.post(reverse("vmquota:policy_new"), management("rules", HUGE))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="rules-20-' not in body
    assert "最多 20 條規則" in body


def test_a_survey_edit_claiming_two_billion_periods_builds_at_most_twenty(world, client):
    survey = world.survey
    client.force_login(world.people["bureau"])
    response = client.post(reverse("signups:edit", args=[survey.pk]),
                           management("blackouts", HUGE))  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="blackouts-20-' not in body
    assert "最多 20 段不可辦理期間。" in body
