"""A coordinator files the school's rows: drafts, submissions, versions, and what is refused."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import School
from signups.models import Offer, Response, Status, StatusChange, Submission
from tests.signups.conftest import GOOD_ROW, table_post


def url(survey, school):
    return reverse("signups:file", args=[survey.pk, school.pk])


def test_a_coordinator_saves_a_draft_then_submits_a_version(
    login, coordinator, xindian_school, survey
):
    client = login(coordinator)
    second = {**GOOD_ROW, "course_name": "Scratch 動畫", "activity": "1/30~31", "gender": "open"}
    r = client.post(url(survey, xindian_school), table_post([GOOD_ROW, second]))
    assert r.status_code == 302
    response = Response.objects.get(survey=survey, school=xindian_school)
    assert response.status == Status.DRAFT
    assert list(response.offers.values_list("course_name", flat=True)) == [
        "FUN Coding (KODU+RPG)", "Scratch 動畫"]  # fmt: skip

    r = client.post(url(survey, xindian_school), table_post([GOOD_ROW, second], action="submit"))
    response.refresh_from_db()
    assert response.status == Status.SUBMITTED
    version = Submission.objects.get(response=response)
    assert version.number == 1 and version.by == coordinator
    assert [row["activity"] for row in version.snapshot] == ["109/2/3~4", "109/1/30~31"]
    events = list(response.changes.values_list("event", "old_status", "new_status"))
    assert events == [("saved", "none", "draft"), ("submitted", "draft", "submitted")]


def test_resubmitting_keeps_every_version(login, coordinator, xindian_school, survey):
    client = login(coordinator)
    client.post(url(survey, xindian_school), table_post([GOOD_ROW], action="submit"))
    changed = {**GOOD_ROW, "capacity": "25"}
    client.post(url(survey, xindian_school), table_post([changed], initial=1, action="submit"))
    versions = list(Submission.objects.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert [v.snapshot[0]["capacity"] for v in versions] == [20, 25]


def test_a_row_in_the_holiday_is_refused_on_its_field_and_nothing_is_saved(
    login, coordinator, xindian_school, survey
):
    client = login(coordinator)
    bad = {**GOOD_ROW, "activity": "109/1/25"}
    r = client.post(url(survey, xindian_school), table_post([GOOD_ROW, bad], action="submit"))
    assert r.status_code == 200
    html = r.content.decode()
    message = "活動日期不可在除夕及春假期間（109/1/23~29），請改期。"
    assert f'<p class="error" id="id_rows-1-activity_error">{message}</p>' in html
    assert f"第 2 列，欄位 活動日期：{message}" in html
    assert 'aria-describedby="id_rows-1-activity_error"' in html
    assert not Offer.objects.exists()
    assert not Submission.objects.exists()


def test_a_fee_or_capacity_beyond_the_database_integer_is_a_form_error_not_a_500(
    login, coordinator, xindian_school, survey
):
    client = login(coordinator)
    huge = {**GOOD_ROW, "fee": "2147483648", "capacity": "2147483648"}
    r = client.post(url(survey, xindian_school), table_post([huge], action="submit"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "第 1 列，欄位 費用：費用不可超過新臺幣 1,000,000 元。" in html
    assert "第 1 列，欄位 人數：人數不可超過 10,000 人。" in html
    assert not Offer.objects.exists()


def test_rows_can_be_reordered_and_removed(login, coordinator, xindian_school, survey):
    client = login(coordinator)
    a, b, c = ({**GOOD_ROW, "course_name": name} for name in ("甲", "乙", "丙"))
    client.post(url(survey, xindian_school), table_post([a, b, c]))
    data = table_post([a, b, c], initial=3)
    data.update({"rows-0-ORDER": "3", "rows-1-DELETE": "on", "rows-2-ORDER": "1"})
    client.post(url(survey, xindian_school), data)
    assert list(Offer.objects.values_list("course_name", flat=True)) == ["丙", "甲"]


def test_a_blank_extra_row_is_ignored(login, coordinator, xindian_school, survey):
    client = login(coordinator)
    blank = {"category": "技能研習", "gender": "open", "grade_from": "", "grade_to": ""}
    r = client.post(url(survey, xindian_school), table_post([GOOD_ROW, blank]))
    assert r.status_code == 302
    assert Offer.objects.count() == 1


def test_submitting_nothing_suggests_declining(login, coordinator, xindian_school, survey):
    r = login(coordinator).post(url(survey, xindian_school), table_post([], action="submit"))
    assert "本校不辦理（無意願）" in r.content.decode()
    assert not Submission.objects.exists()


def test_declining_counts_as_answered(login, coordinator, xindian_school, survey):
    login(coordinator).post(url(survey, xindian_school), {"action": "decline"})
    response = Response.objects.get()
    assert response.status == Status.DECLINED
    assert Submission.objects.get().declined


def test_a_coordinator_cannot_file_for_another_school(
    login, other_coordinator, xindian_school, survey
):
    r = login(other_coordinator).post(url(survey, xindian_school), table_post([GOOD_ROW]))
    assert r.status_code == 403
    assert not Offer.objects.exists()


def test_a_coordinator_cannot_read_another_schools_rows(
    login, other_coordinator, xindian_school, survey
):
    assert login(other_coordinator).get(url(survey, xindian_school)).status_code == 403


def test_the_district_convener_reads_but_cannot_file(login, convener, xindian_school, survey):
    client = login(convener)
    assert client.get(url(survey, xindian_school)).status_code == 200
    assert client.post(url(survey, xindian_school), table_post([GOOD_ROW])).status_code == 403


def test_forged_school_and_status_fields_are_ignored(
    login, coordinator, xindian_school, jiangcui_school, survey
):
    forged = table_post([GOOD_ROW], school=str(jiangcui_school.pk), status="submitted",
                        **{"rows-0-school": str(jiangcui_school.pk), "rows-0-response": "999"})  # fmt: skip
    login(coordinator).post(url(survey, xindian_school), forged)
    response = Response.objects.get()
    assert response.school == xindian_school
    assert response.status == Status.DRAFT
    assert not Response.objects.filter(school=jiangcui_school).exists()


def test_after_the_deadline_the_table_is_read_only(login, coordinator, xindian_school, survey):
    client = login(coordinator)
    client.post(url(survey, xindian_school), table_post([GOOD_ROW], action="submit"))
    survey.closes_at = timezone.now() - timedelta(minutes=1)
    survey.save()
    page = client.get(url(survey, xindian_school)).content.decode()
    assert 'id="offer-form"' not in page and "FUN Coding (KODU+RPG)" in page
    r = client.post(url(survey, xindian_school), table_post([{**GOOD_ROW, "capacity": "99"}]))
    assert r.status_code == 302
    assert Offer.objects.get().capacity == 20


def test_the_bureau_reopens_a_closed_survey_for_one_school(
    login, coordinator, bureau, xindian_school, survey
):
    survey.closes_at = timezone.now() - timedelta(minutes=1)
    survey.save()
    login(bureau).post(reverse("signups:reopen", args=[survey.pk, xindian_school.pk]))
    client = login(coordinator)
    client.post(url(survey, xindian_school), table_post([GOOD_ROW], action="submit"))
    assert Response.objects.get().status == Status.SUBMITTED
    assert StatusChange.objects.filter(event="reopened").exists()


@pytest.mark.parametrize("name", ["list", "survey"])
def test_the_list_and_survey_pages_lead_the_coordinator_to_the_schools_table(
    login, coordinator, xindian_school, survey, name
):
    client = login(coordinator)
    args = [] if name == "list" else [survey.pk]
    r = client.get(reverse(f"signups:{name}", args=args), follow=True)
    assert r.status_code == 200
    assert survey.title in r.content.decode()


def test_the_home_page_shows_open_surveys_and_this_schools_state(login, coordinator, survey):
    page = login(coordinator).get("/").content.decode()
    assert survey.title in page and "未填" in page


def test_saved_rows_come_back_in_the_tables_short_date_form(
    login, coordinator, xindian_school, survey
):
    client = login(coordinator)
    client.post(url(survey, xindian_school), table_post([GOOD_ROW]))
    page = client.get(url(survey, xindian_school)).content.decode()
    assert 'value="2/3~4"' in page and 'value="12/25~1/3"' in page


def test_the_convener_sees_each_district_schools_status_and_how_many_answered(
    login, convener, coordinator, xindian_school, beixin_school, survey
):
    login(coordinator).post(url(survey, xindian_school), table_post([GOOD_ROW], action="submit"))
    client = login(convener)
    listing = client.get(reverse("signups:list")).content.decode()
    district = School.objects.filter(district=xindian_school.district).count()
    assert f"已回覆 1/{district}" in listing
    page = client.get(reverse("signups:survey", args=[survey.pk])).content.decode()
    assert f"已回覆 1/{district}" in page
    xindian = page[page.index('data-school="新店國小"') :][:700]
    beixin = page[page.index('data-school="北新國小"') :][:700]
    assert "已送出" in xindian and "1 列" in xindian
    assert "未填" in beixin
    assert reverse("signups:file", args=[survey.pk, beixin_school.pk]) in beixin
    assert reverse("signups:grid", args=[survey.pk]) not in page  # not a link they may follow
