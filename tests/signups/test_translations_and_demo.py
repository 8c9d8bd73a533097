"""django-import-export speaks zh-Hant through signups' catalog; the demo loads the seed's survey."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from signups import demo
from signups.models import Offer, Response, Status, Submission, Survey


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [("Export", "匯出"), ("Format", "格式"), ("Select all", "全選"), ("Confirm import", "確認匯入"),
     ("This exporter will export the following fields: ", "將匯出下列欄位：")],
)  # fmt: skip
def test_import_export_strings_are_in_traditional_chinese(msgid, expected):
    with translation.override("zh-hant"):
        assert translation.gettext(msgid) == expected


def test_the_admin_export_page_of_import_export_is_in_traditional_chinese(login, sysadmin):
    page = login(sysadmin).get(reverse("admin:signups_offer_export")).content.decode()
    assert "格式" in page and "全選" in page
    assert "导出" not in page and "格式" in page


def test_the_demo_creates_the_seeds_survey_with_its_rules_and_example_row(db):
    call_command("load_demo", stdout=StringIO())
    survey = Survey.objects.get(title=demo.TITLE)
    rules = survey.rules()
    assert (rules.window.start.isoformat(), rules.window.end.isoformat()) == (
        "2020-01-21",
        "2020-02-10",
    )
    assert [(b.label, b.start.isoformat(), b.end.isoformat()) for b in rules.blackouts] == [
        ("除夕及春假", "2020-01-23", "2020-01-29")]  # fmt: skip
    assert survey.is_open()
    if survey.meeting is not None:  # meetings' demo ran: the survey links to the seed meeting
        assert survey.meeting.held_on.isoformat() == "2019-09-10"
    response = Response.objects.get(survey=survey, school__name="新店國小")
    assert response.status == Status.SUBMITTED
    offer = Offer.objects.get(response=response)
    assert (offer.course_name, offer.gender, offer.capacity, offer.fee) == (
        "FUN Coding (KODU+RPG)", "girls_only", 20, 0)  # fmt: skip
    assert Submission.objects.get(response=response).by.username == "coordinator"


def test_the_demo_twice_changes_nothing(db):
    call_command("load_demo", stdout=StringIO())
    counts = (Survey.objects.count(), Response.objects.count(), Offer.objects.count())
    call_command("load_demo", stdout=StringIO())
    assert (Survey.objects.count(), Response.objects.count(), Offer.objects.count()) == counts


def test_the_demo_tolerates_a_missing_meeting(db):
    from portal.demo import load as portal_load

    portal_load()
    survey = demo.load()
    assert survey.meeting is None or survey.meeting.held_on.year == 2019
