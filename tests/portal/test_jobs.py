from datetime import timedelta

from django.urls import reverse

from portal.celery import app as celery_app
from portal.jobs import job_start, run_job
from portal.models import BackgroundJob


def test_a_job_runs_once_and_reports_its_result(bureau):
    job = BackgroundJob.objects.create(kind="t", title="測試", created_by=bureau)
    calls = []

    def work(job, progress):
        calls.append(job.pk)
        progress(5, 10, "一半")
        return {"url": "/done/", "rows": 10}

    assert run_job(job.pk, work) == {"url": "/done/", "rows": 10}
    assert run_job(job.pk, work) is None  # delivered twice: claimed already, not run again
    job.refresh_from_db()
    assert calls == [job.pk]
    assert (job.status, job.result_url, job.result["rows"]) == ("done", "/done/", 10)


def test_a_failed_job_keeps_the_message(bureau):
    job = BackgroundJob.objects.create(kind="t", title="測試", created_by=bureau)

    def work(job, progress):
        raise ValueError("第 3 列，欄位 人數：必須是正整數")

    run_job(job.pk, work)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "第 3 列" in job.error


def test_an_unexpected_error_is_logged_and_shown_as_a_general_failure(bureau):
    job = BackgroundJob.objects.create(kind="t", title="測試", created_by=bureau)

    def work(job, progress):
        raise KeyError("internal detail")

    run_job(job.pk, work)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "internal detail" not in job.error
    assert "沒有被部分儲存" in job.error


def test_a_job_whose_worker_died_is_claimed_again_when_redelivered(bureau):
    import time_machine
    from django.utils import timezone

    job = BackgroundJob.objects.create(kind="t", title="測試", created_by=bureau)
    with time_machine.travel(timezone.now() - timedelta(minutes=30)):
        BackgroundJob.objects.filter(pk=job.pk).update(status="running", claimed_at=timezone.now())
    assert run_job(job.pk, lambda job, progress: {"again": True}) == {"again": True}


def test_a_job_still_running_elsewhere_is_not_run_twice(bureau):
    from django.utils import timezone

    job = BackgroundJob.objects.create(
        kind="t", title="測試", created_by=bureau, status="running", claimed_at=timezone.now()
    )
    assert run_job(job.pk, lambda job, progress: {"again": True}) is None


def test_the_status_endpoint_is_for_the_person_who_started_it(login, bureau, coordinator):
    job = BackgroundJob.objects.create(
        kind="t", title="測試", created_by=coordinator, total=4, done=1
    )
    response = login(coordinator).get(reverse("job_status", args=[job.pk]))
    assert response.json()["percent"] == 25
    other = BackgroundJob.objects.create(kind="t", title="別人的", created_by=bureau)
    assert login(coordinator).get(reverse("job_status", args=[other.pk])).status_code == 403


@celery_app.task(name="tests.portal.count_to_three")
def count_to_three(job_id):
    return run_job(job_id, lambda job, progress: {"counted": 3})


def test_job_start_runs_the_task_after_commit(bureau, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_start(kind="t", title="x", user=bureau, task=count_to_three)
    job.refresh_from_db()
    assert job.status == "queued"  # nothing runs before the transaction commits
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert (job.status, job.result) == ("done", {"counted": 3})
