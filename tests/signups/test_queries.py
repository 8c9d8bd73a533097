"""The coordinator's filing page and the survey list cost a fixed number of SQL queries, whatever
the number of rows, versions, changes or surveys (figures in docs/signups.md)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from signups import services
from signups.models import ImportRun
from signups.rules import clean_row
from tests.signups.conftest import GOOD_ROW


def queries(client, url):
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as captured:
        r = client.get(url)
    assert r.status_code == 200
    return len(captured), r.content.decode()


def fill(survey, school, coordinator, *, rows, versions):
    """`rows` rows, submitted `versions` times (each submission a version and two changes)."""
    response = services.response_get(survey=survey, school=school)
    values = [
        clean_row({**GOOD_ROW, "course_name": f"課程 {i}"}, survey.rules()).values
        for i in range(rows)
    ]
    for _ in range(versions):
        services.offers_save(response=response, rows=values, by=coordinator)
        services.response_submit(response=response, by=coordinator)
    for i in range(versions):
        ImportRun.objects.create(response=response, by=coordinator, filename=f"{i}.xlsx")
    return response


# session, user and roles (3); survey with its columns and rules (3); school with district (1); the
# response, then its survey for is_editable (2); rows, versions with who, changes with who, recent
# imports (4)
FILING_QUERIES = 13


@pytest.mark.parametrize(("rows", "versions"), [(1, 1), (40, 12)])
def test_the_filing_page_makes_a_fixed_number_of_queries(
    login, coordinator, xindian_school, survey, rows, versions
):
    fill(survey, xindian_school, coordinator, rows=rows, versions=versions)
    url = reverse("signups:file", args=[survey.pk, xindian_school.pk])
    count, page = queries(login(coordinator), url)
    assert page.count('name="rows-') > rows * 10  # every row is on the page, as inputs
    assert page.count("</li>") > versions and f"第 {versions} 版：" in page  # every version
    assert count == FILING_QUERIES


def surveys(n, bureau):
    now = timezone.now()
    for i in range(n):
        services.survey_create(
            by=bureau, title=f"調查 {i}", opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=i + 1), school_year=108,
            activity_starts_on=date(2020, 1, 21), activity_ends_on=date(2020, 2, 10),
        )  # fmt: skip


# session, user and roles (3); surveys (1); the coordinator's schools (1); their responses (1).
# Bureau staff have no school: no schools or responses query.
LIST_QUERIES = {"coordinator": 6, "bureau": 4}


@pytest.mark.parametrize("n", [2, 40])
def test_the_survey_list_makes_a_fixed_number_of_queries_for_a_coordinator(
    login, bureau, coordinator, xindian_school, n
):
    surveys(n, bureau)
    from signups.models import Survey

    for s in Survey.objects.all()[: n // 2]:
        services.response_get(survey=s, school=xindian_school)
    count, page = queries(login(coordinator), reverse("signups:list"))
    assert page.count("新店國小 的填報</a>") == n
    assert count == LIST_QUERIES["coordinator"]


@pytest.mark.parametrize("n", [2, 40])
def test_the_survey_list_makes_a_fixed_number_of_queries_for_the_bureau(login, bureau, n):
    surveys(n, bureau)
    count, page = queries(login(bureau), reverse("signups:list"))
    assert page.count("修改調查</a>") == n
    assert count == LIST_QUERIES["bureau"]
