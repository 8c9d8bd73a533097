"""本週待辦 from surveys: a coordinator's surveys due (days left) and answers sent back (the
reason), a convener's district's non-filers, the bureau's surveys with non-filers. Every line
links to a page its reader may open."""

from datetime import datetime, time, timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from signups import services
from signups.models import Response, Status
from signups.todo import todos


def _todos(user):
    request = RequestFactory().get("/")
    request.user = user
    return todos(request)


def _opens(client, todo):
    return client.get(todo.url, follow=True).status_code == 200


@pytest.fixture
def due_in_two_days(survey):
    # days left count calendar days in Taipei: the day after tomorrow at 17:00 is 2 days away
    day = timezone.localdate() + timedelta(days=2)
    survey.closes_at = timezone.make_aware(datetime.combine(day, time(17)))
    survey.save()
    return survey


def test_a_coordinator_is_told_which_survey_to_answer_and_how_many_days_are_left(
    due_in_two_days, coordinator, xindian_school, login
):
    (due,) = _todos(coordinator)
    assert due.text == f"填報「{due_in_two_days.title}」"
    assert due.detail.startswith("還有 2 天（") and "17:00 截止" in due.detail
    assert due.tone == "warn"
    assert due.url == f"/signups/{due_in_two_days.pk}/schools/{xindian_school.pk}/"
    assert _opens(login(coordinator), due)


def test_an_answered_survey_is_not_a_todo(survey, coordinator, xindian_school):
    Response.objects.create(survey=survey, school=xindian_school, status=Status.DECLINED)
    assert _todos(coordinator) == []


def test_an_answer_sent_back_is_listed_with_the_reason_even_after_the_close(
    survey, coordinator, xindian_school, bureau
):
    response = Response.objects.create(
        survey=survey, school=xindian_school, status=Status.SUBMITTED, submitted_at=timezone.now()
    )
    survey.closes_at = timezone.now() - timedelta(minutes=1)
    survey.save()
    services.response_return(response=response, by=bureau, comment="第 2 列的報名日期有誤。")
    (returned,) = _todos(coordinator)
    assert returned.label == "退回" and "退回原因：第 2 列的報名日期有誤。" in returned.detail
    assert returned.urgency < 10  # before news


def test_a_convener_sees_which_district_schools_have_not_answered(
    survey, convener, xindian_school, beixin_school, jiangcui_school, login
):
    Response.objects.create(survey=survey, school=beixin_school, status=Status.SUBMITTED)
    (line,) = _todos(convener)
    assert line.text == f"本分區 1 所學校尚未回覆「{survey.title}」"
    assert "新店國小" in line.detail and "已回覆 1/2" in line.detail
    assert "江翠國中" not in line.detail  # another district's
    assert _opens(login(convener), line)
    Response.objects.create(survey=survey, school=xindian_school, status=Status.DECLINED)
    assert _todos(convener) == []


def test_the_bureau_sees_each_open_survey_with_non_filers(
    survey, bureau, sysadmin, xindian_school, beixin_school, login
):
    Response.objects.create(survey=survey, school=beixin_school, status=Status.SUBMITTED)
    (line,) = _todos(bureau)
    assert line.text == f"「{survey.title}」尚有 1 所學校未回覆" and "已回覆 1/2" in line.detail
    assert _opens(login(bureau), line)
    assert [t.text for t in _todos(sysadmin)] == [line.text]


def test_the_home_page_shows_the_survey_line_and_drops_it_once_answered(
    survey, coordinator, xindian_school, login
):
    client = login(coordinator)
    assert f"填報「{survey.title}」" in client.get("/").content.decode()
    Response.objects.create(survey=survey, school=xindian_school, status=Status.SUBMITTED)
    assert f"填報「{survey.title}」" not in client.get("/").content.decode()
