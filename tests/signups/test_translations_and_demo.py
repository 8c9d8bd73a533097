"""django-import-export speaks zh-Hant through signups' catalog; the demo loads the seed's survey."""

import gettext
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from signups import demo
from signups.models import Offer, Response, Status, Submission, Survey

SIMPLIFIED_ONLY = set("导选确认这为错误号预览删据数验证择时间个们将条记录没设")
CATALOG = Path(__file__).resolve().parents[2] / "locale/zh_Hant/LC_MESSAGES/django.mo"


def test_signups_catalog_translates_every_string_of_import_export_into_traditional_chinese():
    with CATALOG.open("rb") as f:
        catalog = gettext.GNUTranslations(f)
    # the msgids were gathered from the installed version with makemessages (docs/signups.md)
    msgids = {m for m in catalog._catalog if m and not isinstance(m, tuple)}
    assert len(msgids) >= 36
    for msgid in msgids:
        text = catalog.gettext(msgid)
        assert text != msgid, msgid
        assert not SIMPLIFIED_ONLY & set(text), (msgid, text)


@pytest.mark.parametrize(
    "msgid", ["Export", "Format", "Select all", "Confirm import", "Some rows failed to validate",
              "This exporter will export the following fields: "],
)  # fmt: skip
def test_import_export_strings_show_in_traditional_chinese_at_run_time(msgid):
    # another app may translate a string too (tracking does, and wins by INSTALLED_APPS order);
    # what matters is that none is left in English or Simplified Chinese
    with translation.override("zh-hant"):
        text = translation.gettext(msgid)
    assert text != msgid
    assert not SIMPLIFIED_ONLY & set(text)


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


def test_the_demo_links_the_survey_from_the_seed_item_that_announced_it_once(db):
    from meetings import demo as meetings_demo
    from meetings import rendering, selectors
    from meetings.models import Attachment, Correction
    from portal.demo import load as portal_load

    portal_load()
    meeting = meetings_demo.load()
    assert Attachment.objects.count() == 0  # meetings' demo knows no survey
    survey = demo.load()
    demo.load()  # load_demo again: still one link, no correction recorded
    link = Attachment.objects.get()
    assert (link.linked, link.meeting, Correction.objects.count()) == (survey, meeting, 0)
    document = selectors.meeting_document(meeting)
    reports = next(s for s in document.sections if s.key == "reports")
    entry = next(
        e for e in rendering.walk_entries(reports.entries) if e.item_pk == link.report_item_id
    )
    assert entry.label == "(五)" and "寒假青少年休閒育樂活動" in entry.text
    assert [(a.title, a.href, a.note) for a in entry.attachments] == [
        (survey.title, survey.get_absolute_url(), "線上調查表")
    ]
