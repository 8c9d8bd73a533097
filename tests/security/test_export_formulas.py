"""No export hands a formula to Excel. Every text a person typed that reaches a
spreadsheet – a 辦理情形, a 案由, a course, a venue, a school's name – is made hostile here, and
every export the portal offers (the pages' .xlsx, the survey template, the admins' .xlsx and CSV)
must carry it as text: no formula cell in any .xlsx, no CSV field that a spreadsheet would run."""

import csv
import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from portal.spreadsheets import FORMULA_STARTS, SafeCSV, SafeXLSX

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil.example/","點此")', "+1+cmd|' /C calc'!A0", "-2+3",
           "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]  # fmt: skip


@pytest.fixture(params=HOSTILE, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def hostile(request, world):
    """Every exported text field of the demo data set to one hostile value."""
    from signups.models import Offer
    from tracking.models import StatusUpdate, TrackedItem

    text = request.param
    TrackedItem.objects.update(subject=text)
    StatusUpdate.objects.update(text=text)
    Offer.objects.update(course_name=text, venue=text)
    world.xindian.__class__.objects.filter(pk=world.xindian.pk).update(name=text)
    assert StatusUpdate.objects.exists() and Offer.objects.exists()
    return text


def xlsx_cells(content):
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in archive.read(name).decode(), f"a formula in {name}"
    return [v for row in load_workbook(io.BytesIO(content)).active.values for v in row]


def assert_xlsx_carries_text(content, text):
    cells = xlsx_cells(content)
    assert text in cells  # shown exactly as typed (Excel's quote prefix, not a changed value)


def assert_csv_is_inert(content, text):
    fields = [f for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for f in row]
    assert f"'{text}" in fields  # OWASP: a leading apostrophe
    assert not [f for f in fields if f.startswith(FORMULA_STARTS)]


def test_the_tracking_export_writes_a_hostile_status_as_text(world, client, hostile):
    client.force_login(world.people["bureau"])
    response = client.get(reverse("tracking:export"))
    assert response.status_code == 200
    assert_xlsx_carries_text(response.content, hostile)


def test_the_survey_export_writes_hostile_courses_as_text(world, client, hostile):
    client.force_login(world.people["bureau"])
    response = client.get(reverse("signups:export", args=[world.survey.pk]))
    assert response.status_code == 200
    assert_xlsx_carries_text(response.content, hostile)


def test_the_survey_template_writes_a_hostile_school_name_as_text(world, client, hostile):
    client.force_login(world.people["coordinator"])
    response = client.get(reverse("signups:template", args=[world.survey.pk, world.xindian.pk]))
    assert response.status_code == 200
    assert_xlsx_carries_text(response.content, hostile)


@pytest.mark.parametrize("admin_format", [SafeXLSX, SafeCSV], ids=["xlsx", "csv"])
@pytest.mark.parametrize(
    ("model_path", "export_url", "fields"),
    [("tracking.TrackedItem", "admin:tracking_trackeditem_export",
      {"trackeditemresource_subject": "on", "trackeditemresource_latest": "on"}),
     ("signups.Offer", "admin:signups_offer_export",
      {"offerresource_course_name": "on", "offerresource_venue": "on"})],
)  # fmt: skip
def test_the_admin_exports_write_hostile_text_inertly(
    world, client, hostile, admin_format, model_path, export_url, fields
):
    from django.apps import apps
    from django.contrib import admin

    model = apps.get_model(model_path)
    formats = admin.site._registry[model].get_export_formats()
    assert set(formats) == {SafeXLSX, SafeCSV}  # no format that would let a formula through
    client.force_login(world.people["sysadmin"])
    ids = [str(pk) for pk in model.objects.values_list("pk", flat=True)]
    response = client.post(
        reverse(export_url),
        {"format": formats.index(admin_format), "resource": 0, "export_items": ids, **fields},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    if admin_format is SafeXLSX:
        assert_xlsx_carries_text(response.content, hostile)
    else:
        assert_csv_is_inert(response.content, hostile)
