"""The spreadsheet import runs in the background: the upload request only checks the file's size
and type and stores it; a Celery task judges every row, saves all or nothing, and reports
progress; the result page lists every problem by row and column."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import BackgroundJob
from signups import resources, services, tasks
from signups.models import ImportRun, Offer, StatusChange
from tests.portal.test_jobs import broker_down  # noqa: F401 – a fixture
from tests.signups.test_excel import SEED_ROW, import_url, upload, xlsx


def ten_rows():
    return [[str(i), *SEED_ROW[1:3], f"課程 {i}", *SEED_ROW[4:]] for i in range(1, 11)]


def test_the_upload_request_stores_the_file_and_queues_the_work_without_reading_it(
    login, coordinator, xindian_school, survey, monkeypatch, django_capture_on_commit_callbacks
):
    data = xlsx(ten_rows())

    def not_in_the_request(*args, **kwargs):
        raise AssertionError("the request must not judge the rows")

    monkeypatch.setattr(resources, "read_rows", not_in_the_request)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = login(coordinator).post(import_url(survey, xindian_school), {"file": upload(data)})
    run = ImportRun.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_detail", args=[run.job.pk])
    assert (run.outcome, bytes(run.data), run.size, run.filename) == (
        "pending",
        data,
        len(data),
        "table.xlsx",
    )
    assert (run.job.status, run.job.created_by, run.job.params) == (
        "queued",
        coordinator,
        {"import_run": run.pk},
    )
    assert not Offer.objects.exists()  # the task is sent only once the upload is committed

    monkeypatch.undo()
    for callback in queued:  # the commit: the task is sent, and the worker runs it
        callback()
    run.refresh_from_db()
    assert (run.outcome, run.rows_saved) == ("saved", 10)
    assert Offer.objects.count() == 10


def test_the_progress_page_shows_the_coordinator_the_job_and_links_to_the_result(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(import_url(survey, xindian_school), {"file": upload(xlsx(ten_rows()))})
    page = client.get(r.url).content.decode()
    assert "匯入 新店國小 的 Excel 填報表" in page
    run = ImportRun.objects.get()
    assert f'href="{run.get_absolute_url()}"' in page  # 「查看結果」
    status = client.get(reverse("job_status", args=[run.job.pk])).json()
    assert (status["status"], status["percent"], status["result_url"]) == (
        "done",
        100,
        run.get_absolute_url(),
    )


def test_progress_is_reported_while_the_rows_are_checked(coordinator, xindian_school, survey):
    rows = [[str(i), *SEED_ROW[1:3], f"課程 {i}", *SEED_ROW[4:]] for i in range(1, 26)]
    response = services.response_get(survey=survey, school=xindian_school)
    run = ImportRun.objects.create(response=response, by=coordinator, data=xlsx(rows))
    calls = []
    services.import_run_process(run_id=run.pk, progress=lambda *a: calls.append(a))
    assert [(done, total) for done, total, _ in calls] == [
        (0, 25), (10, 25), (20, 25), (25, 25), (25, 25)
    ]  # fmt: skip
    assert calls[1][2] == "檢查第 13 列"  # Excel's row number: title, headers, then data
    assert calls[-1][2] == "已匯入 25 列並存為草稿"


def test_a_task_delivered_twice_imports_once(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        login(coordinator).post(
            import_url(survey, xindian_school), {"file": upload(xlsx(ten_rows()))}
        )
    job = BackgroundJob.objects.get()
    assert tasks.import_workbook(job.pk)["rows"] == 10
    assert tasks.import_workbook(job.pk) is None  # the second delivery finds the job claimed
    # even a run whose job was somehow re-queued is not imported twice
    BackgroundJob.objects.filter(pk=job.pk).update(status="queued")
    assert tasks.import_workbook(job.pk)["outcome"] == "saved"
    assert StatusChange.objects.filter(event="imported").count() == 1
    assert Offer.objects.count() == 10


def test_a_survey_closed_between_upload_and_work_saves_nothing_and_says_why(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(import_url(survey, xindian_school), {"file": upload(xlsx(ten_rows()))})
    survey.closes_at = timezone.now() - timedelta(minutes=1)
    survey.opens_at = survey.closes_at - timedelta(days=10)
    survey.save()
    for callback in queued:
        callback()
    run = ImportRun.objects.get()
    assert run.outcome == "refused" and not Offer.objects.exists()
    assert "本調查已截止" in client.get(run.get_absolute_url()).content.decode()


def test_a_closed_survey_refuses_the_upload_before_queuing(
    login, coordinator, xindian_school, survey
):
    survey.closes_at = timezone.now() - timedelta(minutes=1)
    survey.opens_at = survey.closes_at - timedelta(days=10)
    survey.save()
    r = login(coordinator).post(
        import_url(survey, xindian_school), {"file": upload(xlsx(ten_rows()))}, follow=True
    )
    assert "本調查已截止" in r.content.decode()
    assert not ImportRun.objects.exists() and not BackgroundJob.objects.exists()


def test_the_result_page_is_for_people_who_may_see_the_school(
    login, coordinator, other_coordinator, convener, xindian_school, jiangcui_school, survey
):
    response = services.response_get(survey=survey, school=xindian_school)
    run = ImportRun.objects.create(
        response=response, by=coordinator, outcome="refused", problems=["第 3 列，欄位 人數：…"]
    )
    assert login(other_coordinator).get(run.get_absolute_url()).status_code == 403
    assert "第 3 列，欄位 人數" in login(convener).get(run.get_absolute_url()).content.decode()
    # a run is only found under its own school's address
    elsewhere = reverse("signups:import_result", args=[survey.pk, jiangcui_school.pk, run.pk])
    assert login(other_coordinator).get(elsewhere).status_code == 404


@pytest.mark.parametrize(
    ("outcome", "shown"), [("saved", "（10 列）"), ("refused", "（2 個問題）")]
)
def test_the_filing_page_lists_recent_imports(
    login, coordinator, xindian_school, survey, outcome, shown
):
    response = services.response_get(survey=survey, school=xindian_school)
    run = ImportRun.objects.create(response=response, by=coordinator, filename="新店.xlsx",
                                   outcome=outcome, rows_saved=10, problems=["a", "b"])  # fmt: skip
    page = login(coordinator).get(reverse("signups:file", args=[survey.pk, xindian_school.pk]))
    text = page.content.decode()
    assert f'href="{run.get_absolute_url()}"' in text
    assert "新店.xlsx</a>：" + run.get_outcome_display() + shown in text


def test_a_run_whose_worker_vanished_says_so_after_fifteen_minutes(
    login, coordinator, xindian_school, survey
):
    response = services.response_get(survey=survey, school=xindian_school)
    run = ImportRun.objects.create(response=response, by=coordinator, filename="a.xlsx")
    client = login(coordinator)
    assert "檔案還在檢查中" in client.get(run.get_absolute_url()).content.decode()
    ImportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    page = client.get(run.get_absolute_url()).content.decode()
    assert "匯入沒有完成" in page and "請回到填報頁重新上傳" in page


@pytest.mark.parametrize(
    "cut",
    [
        lambda sheet: b"<worksheet><sheetData><row",  # broken before the first row
        lambda sheet: sheet[: sheet.index(b"</sheetData>") - 40],  # broken after some rows
    ],
    ids=["at-the-start", "mid-rows"],
)
def test_a_workbook_that_passes_the_upload_checks_but_cannot_be_read_is_refused_by_the_worker(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks, cut
):
    import io
    import zipfile

    real = zipfile.ZipFile(io.BytesIO(xlsx(ten_rows())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as broken:
        for info in real.infolist():
            data = real.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = cut(data)
            broken.writestr(info, data)
    client = login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(import_url(survey, xindian_school), {"file": upload(out.getvalue())})
    assert r.status_code == 302  # the upload's cheap checks pass: it is queued
    run = ImportRun.objects.get()
    assert (run.outcome, run.problems) == (
        "refused",
        ["檔案無法讀取，請確認是 Excel 活頁簿（.xlsx）且沒有損毀。"],
    )
    assert run.job.status == "done" and not Offer.objects.exists()


# --- sheets that claim (or hold) far more rows than a school's table ------------------------------


def with_dimension(data, ref):
    """The workbook with its first sheet's <dimension> tag replaced: the tag is the file's claim."""
    import io
    import re
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as changed:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), body)
            changed.writestr(info, body)
    return out.getvalue()


def sparse_sheet():
    """One row of the table, and one more value in the sheet's very last row (1 048 576)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx([SEED_ROW])))
    wb.active.cell(row=1_048_576, column=4, value="最後一列")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def process(coordinator, xindian_school, survey, data):
    response = services.response_get(survey=survey, school=xindian_school)
    run = ImportRun.objects.create(response=response, by=coordinator, data=data)
    updates = []
    run = services.import_run_process(run_id=run.pk, progress=lambda *a: updates.append(a))
    return run, updates


@pytest.mark.parametrize("claim", ["A1:J1048576", "A1:J3"], ids=["a-million", "three-rows"])
def test_the_rows_are_read_to_the_last_one_with_data_whatever_the_dimension_tag_claims(
    coordinator, xindian_school, survey, claim
):
    data = with_dimension(xlsx(ten_rows() + [[None] * 10] * 5), claim)
    run, updates = process(coordinator, xindian_school, survey, data)
    assert (run.outcome, run.rows_saved) == ("saved", 10)
    assert [(done, total) for done, total, _ in updates] == [(0, 10), (10, 10), (10, 10)]


def test_a_value_in_the_sheets_last_row_is_refused_without_walking_the_empty_rows(
    coordinator, xindian_school, survey
):
    run, updates = process(coordinator, xindian_school, survey, sparse_sheet())
    assert (run.outcome, Offer.objects.count()) == ("refused", 0)
    assert run.problems == [
        "工作表在第 1,000 列之後還有內容（或有格式的空白列）。每校最多 200 列資料，"
        "請刪除第 1,000 列以下的所有列後再上傳。"
    ]
    assert updates == [(0, 0, "發現 1 個問題，沒有儲存任何資料")]


def test_more_rows_than_a_school_may_file_are_refused_naming_the_limit_before_judging_them(
    coordinator, xindian_school, survey
):
    rows = [[str(i), *SEED_ROW[1:3], f"課程 {i}", *SEED_ROW[4:]] for i in range(1, 202)]
    run, updates = process(coordinator, xindian_school, survey, xlsx(rows))
    assert (run.outcome, Offer.objects.count()) == ("refused", 0)
    assert run.problems == [
        "表中有 201 列資料，超過每校上限 200 列；請分開填報或刪除多餘的列後再上傳。"
    ]
    assert len(updates) == 1  # only the verdict: no row was judged


def test_a_full_table_is_imported_with_a_bounded_number_of_progress_updates(
    coordinator, xindian_school, survey
):
    rows = [[str(i), *SEED_ROW[1:3], f"課程 {i}", *SEED_ROW[4:]] for i in range(1, 201)]
    rows += [[None] * 10] * 700 + [["*表格不足請自行增列"]]  # blank lines and a note below
    run, updates = process(coordinator, xindian_school, survey, xlsx(rows))
    assert (run.outcome, run.rows_saved) == ("saved", 200)
    assert len(updates) <= resources.PROGRESS_UPDATES + 2


def test_a_fee_beyond_the_integer_column_is_a_row_numbered_problem(
    coordinator, xindian_school, survey
):
    rows = [SEED_ROW, [*SEED_ROW[:6], 2_147_483_648, *SEED_ROW[7:9], "2147483648"]]
    run, _ = process(coordinator, xindian_school, survey, xlsx(rows))
    assert run.problems == ["第 4 列，欄位 費用：費用不可超過新臺幣 1,000,000 元。",
                            "第 4 列，欄位 人數：人數不可超過 10,000 人。"]  # fmt: skip


@pytest.mark.usefixtures("broker_down")
def test_an_upload_while_the_broker_is_away_answers_normally_and_the_job_fails_with_a_retry(
    login, coordinator, xindian_school, survey, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(import_url(survey, xindian_school), {"file": upload(xlsx(ten_rows()))})
    run = ImportRun.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_detail", args=[run.job.pk])
    assert (run.job.status, run.job.retryable) == ("failed", True)
    assert ">重試</button>" in client.get(r.url).content.decode()
    assert not Offer.objects.exists()
