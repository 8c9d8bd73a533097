"""The browser's import runs as background jobs (portal/jobs.py): the request only reads the
form; the preview and the save run in the worker, the person watches the job page. The save is
still one transaction."""

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import Meeting, Motion, ReportItem
from portal.jobs import job_url
from portal.models import BackgroundJob


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run what job_start queued (tasks are eager in the tests) when the request commits."""

    def _post(client, url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return _post


def test_preview_then_save_each_run_as_a_job_with_progress(
    login, bureau, divisions, seed_text, django_capture_on_commit_callbacks
):
    client = login(bureau)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("meetings:import"), {"text": seed_text})
    preview = BackgroundJob.objects.get()
    # the request returned before any parsing: the job waits for the worker
    assert response["Location"] == job_url(preview) and len(queued) == 1
    assert (preview.kind, preview.status, preview.created_by) == (
        "meetings.import_preview", "queued", bureau,
    )  # fmt: skip
    queued[0]()  # the worker picks it up
    preview.refresh_from_db()
    assert preview.status == "done" and preview.percent == 100
    assert preview.result_url == reverse("meetings:import_preview", args=[preview.pk])
    assert Meeting.objects.count() == 0  # a preview saves nothing

    html = client.get(preview.result_url).content.decode()
    assert "預覽：系統讀到的內容" in html and "第 135 行" in html and "上次 2 件、新增 2 件" in html
    assert "108 年 9 月 10 日" in html and "吳科長佳珊／吳安絜" in html and "3 組、39 項" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("meetings:import_save", args=[preview.pk]))
    save = BackgroundJob.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == job_url(save) and save.kind == "meetings.import_save"
    save.refresh_from_db()
    meeting = Meeting.objects.get()
    assert save.status == "done" and save.result_url == reverse("meetings:edit", args=[meeting.pk])
    assert meeting.status == "draft" and meeting.created_by == bureau
    assert meeting.source_text == seed_text  # the text went from the preview job to the save job
    job_page = client.get(job_url(save)).content.decode()
    assert f'href="{save.result_url}"' in job_page and "完成" in job_page


def test_the_job_page_polls_its_status(login, bureau, divisions, run_jobs, seed_text):
    client = login(bureau)
    run_jobs(client, reverse("meetings:import"), {"text": seed_text})
    job = BackgroundJob.objects.get()
    status = client.get(reverse("job_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["result_url"].endswith(f"/import/{job.pk}/")


def test_a_text_that_is_not_minutes_is_refused_in_the_preview(login, bureau, divisions, run_jobs):
    client = login(bureau)
    run_jobs(client, reverse("meetings:import"), {"text": "姓名,電話\n王,123"})
    job = BackgroundJob.objects.get()
    html = client.get(job.result_url).content.decode()
    assert "看不出這是會議紀錄" in html and "儲存為草稿</button>" not in html
    response = client.post(reverse("meetings:import_save", args=[job.pk]))  # forced anyway
    assert response.status_code == 302 and BackgroundJob.objects.count() == 1
    assert Meeting.objects.count() == 0


def test_a_duplicate_is_named_in_the_preview_and_cannot_be_saved(
    login, bureau, seed_meeting, seed_text, run_jobs
):
    client = login(bureau)
    run_jobs(client, reverse("meetings:import"), {"text": seed_text})
    html = client.get(BackgroundJob.objects.get().result_url).content.decode()
    assert "已有同一天、同名稱的會議" in html and "預覽：系統讀到的內容" in html
    assert "儲存為草稿</button>" not in html and Meeting.objects.count() == 1


def test_a_refusal_while_saving_fails_the_job_and_saves_nothing(
    login, bureau, divisions, seed_text, run_jobs
):
    client = login(bureau)
    # the preview (meetings' own checks) passes; tracking/ refuses the table while saving
    run_jobs(
        client, reverse("meetings:import"), {"text": seed_text.replace("本案解列。", "併案。", 1)}
    )
    preview = BackgroundJob.objects.get()
    run_jobs(client, reverse("meetings:import_save", args=[preview.pk]), {})
    save = BackgroundJob.objects.exclude(pk=preview.pk).get()
    assert save.status == "failed" and "併案須寫明併入的案號" in save.error
    assert (Meeting.objects.count(), ReportItem.objects.count(), Motion.objects.count()) == (
        0,
        0,
        0,
    )
    page = client.get(job_url(save)).content.decode()
    assert "這項工作沒有完成" in page and "資料沒有被部分儲存" in page


def test_another_clerks_preview_is_usable_by_staff_but_not_by_coordinators(
    login, bureau, coordinator, divisions, seed_text, run_jobs
):
    run_jobs(login(bureau), reverse("meetings:import"), {"text": seed_text})
    job = BackgroundJob.objects.get()
    client = login(coordinator)
    assert client.get(reverse("meetings:import_preview", args=[job.pk])).status_code == 403
    assert client.post(reverse("meetings:import_save", args=[job.pk])).status_code == 403
    assert BackgroundJob.objects.count() == 1


def test_an_unfinished_preview_sends_the_person_to_the_job_page(
    login, bureau, divisions, seed_text
):
    client = login(bureau)
    client.post(reverse("meetings:import"), {"text": seed_text})  # queued, not run
    job = BackgroundJob.objects.get()
    response = client.get(reverse("meetings:import_preview", args=[job.pk]))
    assert response["Location"] == job_url(job)


def test_the_command_line_import_stays_synchronous(db, divisions, seed_text, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "108-09.txt"
    path.write_text(seed_text, encoding="utf-8")
    call_command("import_minutes", str(path))
    assert Meeting.objects.count() == 1 and BackgroundJob.objects.count() == 0
    assert services.meeting_import_preview(text=seed_text)["ok"] is False  # now a duplicate


def test_a_real_worker_runs_the_preview_and_the_save(
    celery_worker_process, client, bureau, divisions, seed_text
):
    """PostgreSQL and Redis: the request returns at once, a separate worker process parses and
    saves (with the real tracking app), the job page's JSON reports it."""
    from tests.conftest import wait_for

    client.force_login(bureau)

    def finished(job):
        def check():
            job.refresh_from_db()
            return job.status in ("done", "failed") and job

        return wait_for(check, timeout=60, message=f"job {job.pk}")

    response = client.post(reverse("meetings:import"), {"text": seed_text})
    preview = finished(BackgroundJob.objects.get(kind="meetings.import_preview"))
    assert response["Location"] == job_url(preview)
    assert preview.status == "done" and preview.result["ok"], preview.error
    client.post(reverse("meetings:import_save", args=[preview.pk]))
    save = finished(BackgroundJob.objects.get(kind="meetings.import_save"))
    assert save.status == "done", save.error
    meeting = Meeting.objects.get(pk=save.result["meeting_id"])
    assert meeting.motions.count() == 7 and meeting.report_items.count() == 39
    status = client.get(reverse("job_status", args=[save.pk])).json()
    assert status["percent"] == 100 and status["result_url"] == f"/meetings/{meeting.pk}/edit/"


def test_a_pdf_upload_is_read_page_by_page_in_the_job_and_saved_from_that_text(
    login, bureau, divisions, run_jobs
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.meetings.pdfs import text_pdf

    lines = ["某某國小校務會議紀錄", "時間：112年3月15日下午2時", "地點：會議室", "提案討論"]
    pages = [lines] + [[f"案由：第 {n} 案，請討論。", "決議：照案通過。"] for n in range(1, 30)]
    pages[-1].append("散會")
    client = login(bureau)
    upload = SimpleUploadedFile("紀錄.pdf", text_pdf(pages), content_type="application/pdf")

    run_jobs(client, reverse("meetings:import"), {"file": upload})

    preview = BackgroundJob.objects.get()
    assert preview.status == "done", preview.error
    assert preview.params["pdf"] == "" and "第 29 案" in preview.params["text"]
    assert len(preview.result["result"]["motions"]) == 29
    assert preview.percent == 100


def test_the_pdf_pages_move_the_progress_bar(bureau):
    import base64

    from meetings import tasks
    from tests.meetings.pdfs import text_pdf

    pages = [["某某國小校務會議紀錄", "時間：112年3月15日"]] + [["第 2 頁"], ["第 3 頁"]]
    job = BackgroundJob.objects.create(
        kind="meetings.import_preview", title="t", created_by=bureau,
        params={"text": "", "pdf": base64.b64encode(text_pdf(pages)).decode()},
    )  # fmt: skip
    seen = []

    tasks.preview_work(job, lambda done, total, message="": seen.append((done, total, message)))

    assert seen[1:4] == [
        (1, 4, "正在讀取 PDF 第 1 頁（共 3 頁）…"),
        (2, 4, "正在讀取 PDF 第 2 頁（共 3 頁）…"),
        (3, 4, "正在讀取 PDF 第 3 頁（共 3 頁）…"),
    ]


def test_a_scanned_pdf_fails_the_job_with_the_reason(login, bureau, divisions, run_jobs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.meetings.pdfs import text_pdf

    client = login(bureau)
    upload = SimpleUploadedFile("掃描.pdf", text_pdf([None, None]), content_type="application/pdf")

    run_jobs(client, reverse("meetings:import"), {"file": upload})

    job = BackgroundJob.objects.get()
    assert job.status == "failed" and "沒有文字層" in job.error


def test_a_200_page_pdf_is_previewed_with_a_progress_step_per_page(bureau, divisions):
    import base64

    from meetings import tasks
    from tests.meetings.pdfs import text_pdf

    head = ["某某國小校務會議紀錄", "時間：112年3月15日下午2時", "提案討論"]
    body = [
        [f"案由：第 {n} 頁的事項，請討論。", "決議：照案通過。"] + ["說明文字。"] * 30
        for n in range(2, 201)
    ]
    pdf = text_pdf([head, *body[:-1], [*body[-1], "散會"]])
    job = BackgroundJob.objects.create(
        kind="meetings.import_preview", title="t", created_by=bureau,
        params={"text": "", "pdf": base64.b64encode(pdf).decode()},
    )  # fmt: skip
    seen = []

    result = tasks.preview_work(job, lambda done, total, message="": seen.append((done, total)))

    pages = [s for s in seen if s[1] == 201]
    assert [d for d, _t in pages] == list(range(1, 201))  # the bar moves with every page
    assert len(result["result"]["motions"]) == 199
