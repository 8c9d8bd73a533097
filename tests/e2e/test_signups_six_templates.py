"""In a real browser: six surveys built from six of the bureau's templates (through the service,
the upload page has its own test), each filed by two schools – one browser context per school,
one valid row typed into each table and sent – then exported by the bureau: both schools'
values are in each export, in the survey's own layout (title, header, rows)."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from portal.demo import load as load_portal_demo
from portal.models import School
from signups import bureau_template, services
from tests.conftest import browser_login
from tests.factories import PASSWORD, coordinator_of
from tests.signups.test_bureau_template import SIX, sheet

pytestmark = pytest.mark.browser
SCHOOLS = ("新店國小", "江翠國中")  # two districts


def six_surveys(bureau):
    now = timezone.now()
    made = []
    for name, (title, headers, example, notes, _) in SIX.items():
        proposal = bureau_template.read_template(sheet(title, headers, example, notes))
        survey = services.survey_from_proposal(
            proposal=proposal, title="", by=bureau,
            opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=7),
        )  # fmt: skip
        services.survey_publish(survey=survey, by=bureau)
        table = survey.table()[0]
        # the example row as a school types it: its own school left to the form, and one text
        # column marked with the school so the export shows whose row is whose
        marked = next(c for c in table if c.type == "text")
        made.append((name, survey, table, proposal.example, marked))
    return made


def typed(column, example, school_name, marked):
    if column.key == marked.key:
        return f"{school_name}：{example.get(column.key, '')}"
    return "" if column.type == "school" else str(example.get(column.key, ""))


@pytest.mark.django_db(transaction=True)
def test_six_templates_are_filed_by_two_schools_and_exported_in_their_layout(
    page, browser, live_server
):
    load_portal_demo()
    from django.contrib.auth import get_user_model

    surveys = six_surveys(get_user_model().objects.get(username="bureau"))
    for school_name in SCHOOLS:
        school = School.objects.get(name=school_name)
        coordinator_of(school, username=f"it-{school.code}")
        context = browser.new_context(base_url=live_server.url, locale="zh-TW",
                                      timezone_id="Asia/Taipei")  # fmt: skip
        other = context.new_page()
        other.set_default_timeout(15_000)
        browser_login(other, f"it-{school.code}", PASSWORD)
        for name, survey, table, example, marked in surveys:
            other.goto(f"/signups/{survey.pk}/schools/{school.pk}/")
            for column in table:
                field = other.locator(f"[name='rows-0-{column.key}']")
                value = typed(column, example, school_name, marked)
                if column.type == "choice":
                    field.select_option(value)
                elif column.type != "school":
                    field.fill(value)
            other.get_by_role("button", name="送出", exact=True).click()
            status = other.locator("#response-status").inner_text()
            assert status == "已送出", (name, other.locator(".form-errors").all_inner_texts())
        context.close()

    browser_login(page, "bureau", "bureau-demo-108")
    for name, survey, table, example, marked in surveys:
        page.goto(f"/signups/{survey.pk}/grid/")
        with page.expect_download() as info:
            page.get_by_role("link", name="下載 Excel（.xlsx）").click()
        ws = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
        assert ws["A1"].value == survey.title, name
        assert [c.value for c in ws[2]] == ["項次"] + [c.label for c in table], name
        body = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=4)]
        assert [r[0] for r in body] == [1, 2], name
        at = 1 + [c.key for c in table].index(marked.key)
        schools_at = [1 + i for i, c in enumerate(table) if c.type == "school"]
        for school_name, row in zip(sorted(SCHOOLS, key=_code), body, strict=True):
            assert row[at] == f"{school_name}：{example.get(marked.key, '')}", (name, row)
            assert all(row[i] == school_name for i in schools_at), (name, row)


def _code(name):
    # the export lists schools by district, then code: 板橋 (江翠國中) before 文山 (新店國小)
    return School.objects.get(name=name).district.position
