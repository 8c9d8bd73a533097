"""A formula in the uploaded table is refused, naming its cell: the workbook is read without
cached values (Excel may never have written one), so a formula would otherwise read as blank –
a blank school column would become the uploading school. A formula outside the table's rows (the
title, a note under the table) is ignored."""

import io

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from signups import resources
from signups.models import ImportRun, Offer
from tests.signups.conftest import GOOD_ROW
from tests.signups.test_district_filed import LESSON, conveners, timetables  # noqa: F401
from tests.signups.test_excel import SEED_ROW, import_in_background, submit


def book(rows, *, title="調查表", cells=(), text_cells=()):
    """The seed's table with `rows` under its header (Excel row 3 on), then `cells` written as
    typed (a value starting with = is a formula) and `text_cells` forced to plain text."""
    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(resources.HEADERS)
    for row in rows:
        ws.append(row)
    for ref, value in cells:
        ws[ref] = value
    for ref, value in text_cells:
        ws[ref] = value
        ws[ref].data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def refusal(data, survey, school):
    with pytest.raises(resources.ImportRefused) as refused:
        resources.read_rows(io.BytesIO(data), survey_rules=survey.rules(), school=school)
    return refused.value.messages


def test_every_formula_in_the_tables_rows_is_refused_naming_its_cell(xindian_school, survey):
    data = book([SEED_ROW, SEED_ROW, SEED_ROW], cells=[
        ("C3", "=A1+1"),  # the school column: would have read as blank, i.e. this school
        ("F4", '=HYPERLINK("https://example.org","新店國小")'),
        ("J5", ArrayFormula("J5:J5", "=SUM(A1:A2*2)")),
    ])  # fmt: skip
    assert refusal(data, survey, xindian_school) == [
        "C3 是公式（=A1+1），請改填數值或文字後再上傳。",
        'F4 是公式（=HYPERLINK("https://example.org","新店國小")），請改填數值或文字後再上傳。',
        "J5 是公式（=SUM(A1:A2*2)），請改填數值或文字後再上傳。",
    ]


def test_a_formula_in_the_title_or_a_note_under_the_table_is_ignored(xindian_school, survey):
    data = book([SEED_ROW, [], ['="填表人："&"王小明"']], title='="寒假營隊"&"調查表"')
    sheet = resources.read_rows(
        io.BytesIO(data), survey_rules=survey.rules(), school=xindian_school
    )
    assert [n for n, _ in sheet.rows] == [3]


def test_a_numbering_formula_in_the_item_column_is_let_through(xindian_school, survey):
    # 項次 is never read: bureau templates number their rows with =ROW()-2
    data = book([SEED_ROW, SEED_ROW], cells=[("A3", "=ROW()-2"), ("A4", "=ROW()-2")])
    sheet = resources.read_rows(
        io.BytesIO(data), survey_rules=survey.rules(), school=xindian_school
    )
    assert [n for n, _ in sheet.rows] == [3, 4]


def test_text_that_starts_with_an_equals_sign_is_not_a_formula(xindian_school, survey):
    data = book([SEED_ROW], text_cells=[("D3", "=A1+1 程式設計")])
    sheet = resources.read_rows(
        io.BytesIO(data), survey_rules=survey.rules(), school=xindian_school
    )
    assert sheet.rows[0][1].course_name == "=A1+1 程式設計"


def test_the_list_of_formulas_is_capped(xindian_school, survey):
    rows = [[*SEED_ROW[:9], f"=10+{i}"] for i in range(30)]
    messages = refusal(book(rows), survey, xindian_school)
    assert len(messages) == resources.MAX_FORMULAS_LISTED + 1
    assert messages[0] == "J3 是公式（=10+0），請改填數值或文字後再上傳。"
    assert messages[-1] == "另有 10 個公式儲存格未列出，請一併改為數值或文字。"


def test_the_worker_refuses_a_formula_and_keeps_the_saved_rows(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    submit(client, survey, xindian_school, [{**GOOD_ROW, "course_name": "原本的課"}])
    data = book([SEED_ROW, SEED_ROW], cells=[("C4", "=A1+1")])
    _, job = import_in_background(
        client, survey, xindian_school, data, django_capture_on_commit_callbacks
    )
    assert list(Offer.objects.values_list("course_name", flat=True)) == ["原本的課"]
    assert ImportRun.objects.get().outcome == "refused"
    page = client.get(job.result_url).content.decode()
    assert "C4 是公式（=A1+1），請改填數值或文字後再上傳。" in page
    assert "沒有任何資料被儲存" in page


def test_a_formula_in_the_district_tables_school_column_is_refused(timetables, beixin_school):  # noqa: F811
    blank = load_workbook(io.BytesIO(resources.template_xlsx(timetables, beixin_school))).active
    labels = [c.value for c in blank[2]][1:]
    blank.append(["1"] + [{"學校": "北新國小", **LESSON}.get(label, "") for label in labels])
    school_cell = f"{chr(ord('B') + labels.index('學校'))}{blank.max_row}"
    blank[school_cell] = '=IF(1,"","北新國小")'  # cached value blank: would be the convener
    out = io.BytesIO()
    blank.parent.save(out)
    with pytest.raises(resources.ImportRefused) as refused:
        resources.read_rows(io.BytesIO(out.getvalue()), survey_rules=timetables.rules(),
                            school=beixin_school, survey=timetables)  # fmt: skip
    assert refused.value.messages == [
        f'{school_cell} 是公式（=IF(1,"","北新國小")），請改填數值或文字後再上傳。'
    ]
