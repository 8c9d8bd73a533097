"""The table as .xlsx: export in the bureau's layout, import from a school's file."""

import io
import zipfile
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from portal.models import BackgroundJob
from signups import resources, services
from signups.models import ImportRun, Offer, Response, Status, StatusChange
from tests.signups.conftest import GOOD_ROW, table_post

SEED_ROW = ["1", "技能研習", "新店國小", "FUN Coding (KODU+RPG)", "2/3~4", "新店國小", "免費",
            "12/25~1/3", "4~6年級 女生", 20]  # fmt: skip


def xlsx(rows, headers=resources.HEADERS, title="調查表"):
    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(data, name="table.xlsx"):
    return SimpleUploadedFile(name, data, content_type=resources.XLSX_MIME)


def import_url(survey, school):
    return reverse("signups:import", args=[survey.pk, school.pk])


def submit(client, survey, school, rows):
    url = reverse("signups:file", args=[survey.pk, school.pk])
    assert client.post(url, table_post(rows, action="submit")).status_code == 302


def test_the_export_has_the_seeds_columns_numbered_rows_and_compact_dates(
    login, coordinator, bureau, xindian_school, survey
):
    second = {**GOOD_ROW, "course_name": "Scratch", "activity": "1/30~2/2", "fee": "300",
              "gender": "girls_first", "grade_from": "5", "grade_to": "5"}  # fmt: skip
    submit(login(coordinator), survey, xindian_school, [GOOD_ROW, second])
    r = login(bureau).get(reverse("signups:export", args=[survey.pk]))
    assert r["Content-Type"] == resources.XLSX_MIME
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws["A1"].value == survey.title
    assert [c.value for c in ws[2]] == resources.HEADERS
    assert [c.value for c in ws[3]] == [1, "技能研習", "新店國小", "FUN Coding (KODU+RPG)", "2/3~4",
                                        "新店國小", "免費", "12/25~1/3", "4~6年級 女生", 20]  # fmt: skip
    assert [c.value for c in ws[4]][0::4] == [2, "1/30~2/2", "5年級 女生優先"]
    assert ws["G4"].value == 300
    assert ws["A6"].value == "*表格不足請自行增列"


def test_only_submitted_schools_are_consolidated(
    login, coordinator, bureau, xindian_school, survey
):
    login(coordinator).post(reverse("signups:file", args=[survey.pk, xindian_school.pk]),
                            table_post([GOOD_ROW]))  # a draft  # fmt: skip
    ws = load_workbook(
        io.BytesIO(login(bureau).get(reverse("signups:export", args=[survey.pk])).content)
    ).active
    assert ws.max_row == 6  # title, headers, no rows, a blank line, three notes
    assert ws["A3"].value is None


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)", "\tcmd"])
def test_cells_that_excel_could_run_are_written_as_text(
    login, coordinator, bureau, xindian_school, survey, text
):
    submit(login(coordinator), survey, xindian_school, [GOOD_ROW])
    Offer.objects.update(course_name=text)  # the form strips a leading tab; the model need not
    content = login(bureau).get(reverse("signups:export", args=[survey.pk])).content
    cell = load_workbook(io.BytesIO(content)).active["D3"]
    assert cell.value == text
    assert cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def import_in_background(client, survey, school, data, capture, name="table.xlsx"):
    """Upload as a person does; the queued task runs (eagerly) when the request commits.
    Returns the upload's response (a redirect to the progress page) and the finished job."""
    with capture(execute=True):
        r = client.post(import_url(survey, school), {"file": upload(data, name)})
    assert r.status_code == 302
    job = BackgroundJob.objects.get(kind="signups.import")
    assert r.url == reverse("job_detail", args=[job.pk])
    job.refresh_from_db()
    return r, job


def test_a_school_imports_its_table_which_replaces_its_rows_as_a_draft(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    rows = [SEED_ROW, ["2", "營隊", "", "機器人", datetime(2020, 1, 31), "新店國小", "NT$500",
                       "12/1~12/31", "1~12年級", "30"]]  # fmt: skip
    client = login(coordinator)
    _, job = import_in_background(
        client, survey, xindian_school, xlsx(rows), django_capture_on_commit_callbacks
    )
    offers = list(Offer.objects.order_by("position"))
    assert [o.course_name for o in offers] == ["FUN Coding (KODU+RPG)", "機器人"]
    assert offers[1].activity_starts_on.isoformat() == "2020-01-31"  # an Excel date cell
    assert (offers[1].fee, offers[1].grade_from, offers[1].grade_to) == (500, 1, 12)
    response = Response.objects.get()
    assert response.status == Status.DRAFT
    assert StatusChange.objects.filter(event="imported").count() == 1
    run = ImportRun.objects.get()
    assert (job.status, job.result_url) == ("done", run.get_absolute_url())
    assert (run.outcome, run.rows_saved, run.data) == ("saved", 2, None)  # the file is not kept
    page = client.get(job.result_url).content.decode()
    assert "已匯入 2 列並存為草稿" in page


def test_one_bad_row_among_ten_saves_none_and_names_the_row(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    submit(client, survey, xindian_school, [{**GOOD_ROW, "course_name": "原本的課"}])
    rows = [[str(i), *SEED_ROW[1:3], f"課程 {i}", *SEED_ROW[4:]] for i in range(1, 11)]
    rows[6][4] = "1/25"  # the 7th data row is on Excel row 9
    _, job = import_in_background(
        client, survey, xindian_school, xlsx(rows), django_capture_on_commit_callbacks
    )
    assert list(Offer.objects.values_list("course_name", flat=True)) == ["原本的課"]
    assert Response.objects.get().status == Status.SUBMITTED
    assert not StatusChange.objects.filter(event="imported").exists()
    # the job finished (it judged the file); its result page lists the problem by row and column
    assert job.status == "done" and "1 個問題" in job.message
    r = client.get(job.result_url)
    page = r.content.decode()
    assert "第 9 列，欄位 活動日期：活動日期不可在除夕及春假期間" in page
    assert "沒有任何資料被儲存" in page
    assert ImportRun.objects.get().outcome == "refused"


def test_every_bad_row_is_reported_before_anything_is_saved(xindian_school, survey):
    rows = [SEED_ROW, [*SEED_ROW[:8], "6~4年級", 20], [*SEED_ROW[:6], "很便宜", *SEED_ROW[7:9], "0"],
            [*SEED_ROW[:2], "江翠國中", *SEED_ROW[3:]]]  # fmt: skip
    with pytest.raises(resources.ImportRefused) as refused:
        resources.read_rows(
            io.BytesIO(xlsx(rows)), survey_rules=survey.rules(), school=xindian_school
        )
    assert refused.value.messages == [
        "第 4 列，欄位 參加年級：參加年級起訖顛倒：起始年級（6）大於結束年級（4）。",
        "第 5 列，欄位 費用：費用「很便宜」不是金額：請填「免費」或新臺幣整數金額，例如 500。",
        "第 5 列，欄位 人數：人數「0」須為正整數，例如 20。",
        "第 6 列，欄位 承辦學校：承辦學校須為本校（新店國小），不可代其他學校填報。",
    ]


def _refusal(client, survey, school, data, name="table.xlsx"):
    """A file refused by the upload itself, before anything is queued or stored."""
    r = client.post(import_url(survey, school), {"file": upload(data, name)})
    assert r.status_code == 400
    assert not Offer.objects.exists()
    assert not ImportRun.objects.exists() and not BackgroundJob.objects.exists()
    return r.content.decode()


def _refused_by_the_worker(client, survey, school, data, capture):
    _, job = import_in_background(client, survey, school, data, capture)
    assert not Offer.objects.exists()
    assert ImportRun.objects.get().outcome == "refused"
    return client.get(job.result_url).content.decode()


def test_a_file_that_is_not_xlsx_by_content_is_refused(login, coordinator, xindian_school, survey):
    page = _refusal(login(coordinator), survey, xindian_school, "項次,類型\n1,技能研習\n".encode())
    assert "檔案不是 Excel 活頁簿（.xlsx）" in page


def test_a_zip_that_is_not_a_workbook_is_refused(login, coordinator, xindian_school, survey):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    page = _refusal(login(coordinator), survey, xindian_school, out.getvalue())
    assert "檔案不是 Excel 活頁簿（.xlsx）" in page


def test_a_file_over_5_mb_is_refused(login, coordinator, xindian_school, survey):
    page = _refusal(
        login(coordinator), survey, xindian_school, b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024)
    )
    assert "檔案太大" in page


def test_a_zip_bomb_is_refused_before_it_is_opened(login, coordinator, xindian_school, survey):
    real = zipfile.ZipFile(io.BytesIO(xlsx([SEED_ROW])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for info in real.infolist():
            z.writestr(info, real.read(info))
        z.writestr("xl/media/padding.bin", b"\0" * (51 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    page = _refusal(login(coordinator), survey, xindian_school, out.getvalue())
    assert "解壓縮後超過 50 MB" in page


def test_wrong_headers_are_refused_naming_the_column(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    headers = [*resources.HEADERS[:4], "日期", *resources.HEADERS[5:]]
    page = _refused_by_the_worker(login(coordinator), survey, xindian_school,
                                  xlsx([SEED_ROW], headers=headers),
                                  django_capture_on_commit_callbacks)  # fmt: skip
    assert "第 5 欄應為「活動日期」而不是「日期」" in page


def test_the_blank_template_has_the_example_row_which_import_skips(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    data = client.get(reverse("signups:template", args=[survey.pk, xindian_school.pk])).content
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A3"].value == "1 (例)" and ws["C3"].value == "新店國小"
    page = _refused_by_the_worker(
        client, survey, xindian_school, data, django_capture_on_commit_callbacks
    )
    assert "表中沒有任何資料列" in page


def test_a_coordinator_cannot_import_for_another_school(
    login, other_coordinator, xindian_school, survey
):
    r = login(other_coordinator).post(
        import_url(survey, xindian_school), {"file": upload(xlsx([SEED_ROW]))}
    )
    assert r.status_code == 403
    assert not Offer.objects.exists()


def test_the_export_reads_back_through_the_import(coordinator, xindian_school, survey):
    response = services.response_get(survey=survey, school=xindian_school)
    from signups.rules import clean_row

    services.offers_save(
        response=response, rows=[clean_row(GOOD_ROW, survey.rules()).values], by=coordinator
    )
    data = resources.export_xlsx(survey, offers=Offer.objects.all())
    sheet = resources.read_rows(
        io.BytesIO(data), survey_rules=survey.rules(), school=xindian_school
    )
    assert sheet.rows[0][1] == clean_row(GOOD_ROW, survey.rules()).values
