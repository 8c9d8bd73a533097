from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from portal.celery import app as celery_app
from portal.jobs import NOT_SENT, job_start, jobs_requeue, run_job
from portal.models import AuditEvent, BackgroundJob
from tests.conftest import use_broker


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


# --- the broker is away – no job waits as 排隊中 forever ---------------------------------------------


@pytest.fixture
def broker_down():
    """This process's tasks go to a Redis port nothing listens on (the broker is away)."""
    saved_url, saved_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    use_broker(celery_app, "redis://127.0.0.1:9/0")
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = saved_eager
    use_broker(celery_app, saved_url)


def test_a_job_whose_task_cannot_be_sent_fails_at_once_with_a_retry(
    bureau, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="t", title="x", user=bureau, task=count_to_three)
    job.refresh_from_db()
    assert (job.status, job.error, job.retryable) == ("failed", NOT_SENT, True)


def test_the_job_page_shows_the_failure_in_red_with_a_retry_button(login, bureau):
    job = BackgroundJob.objects.create(kind="t", title="匯入", created_by=bureau,
                                       task=count_to_three.name, status="failed", error=NOT_SENT)  # fmt: skip
    page = login(bureau).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert '<strong id="job-status" class="badge badge-bad">失敗</strong>' in page
    assert 'class="card job job-failed"' in page  # the bar turns red (static/css/portal.css)
    assert f"這項工作沒有完成：{NOT_SENT}" in page
    assert f'action="{reverse("job_retry", args=[job.pk])}"' in page and ">重試</button>" in page
    assert login(bureau).get(reverse("job_status", args=[job.pk])).json()["retryable"] is True


def test_retry_sends_the_job_again_once_the_broker_is_back(
    login, bureau, django_capture_on_commit_callbacks
):
    job = BackgroundJob.objects.create(kind="t", title="匯入", created_by=bureau,
                                       task=count_to_three.name, status="failed", error=NOT_SENT)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = login(bureau).post(reverse("job_retry", args=[job.pk]))
    assert response.status_code == 302 and response.url == reverse("job_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.result, job.error) == ("done", {"counted": 3}, "")
    assert AuditEvent.objects.filter(action="portal.job_retried").count() == 1


def test_a_job_that_ran_and_failed_is_not_retried(login, bureau, coordinator):
    from django.utils import timezone

    job = BackgroundJob.objects.create(kind="t", title="匯入", created_by=bureau, status="failed",
                                       task=count_to_three.name, claimed_at=timezone.now(),
                                       error="第 3 列，欄位 人數：必須是正整數")  # fmt: skip
    page = login(bureau).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert f'action="{reverse("job_retry", args=[job.pk])}" hidden>' in page  # no button shown
    login(bureau).post(reverse("job_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "failed"
    assert login(coordinator).post(reverse("job_retry", args=[job.pk])).status_code == 403
    assert login(bureau).get(reverse("job_retry", args=[job.pk])).status_code == 405


def test_the_sweep_sends_again_only_jobs_left_unclaimed_too_long(
    bureau, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    now = timezone.now()
    lost = BackgroundJob.objects.create(kind="t", title="遺失", created_by=bureau,
                                        task=count_to_three.name, queued_at=now - timedelta(minutes=6))  # fmt: skip
    fresh = BackgroundJob.objects.create(kind="t", title="剛送出", created_by=bureau,
                                         task=count_to_three.name, queued_at=now)  # fmt: skip
    running = BackgroundJob.objects.create(
        kind="t", title="執行中", created_by=bureau, task=count_to_three.name, status="running",
        queued_at=now - timedelta(minutes=6), claimed_at=now - timedelta(minutes=1),
    )  # fmt: skip
    assert jobs_requeue(now=now) == 1
    assert [j.status for j in BackgroundJob.objects.filter(pk__in=[lost.pk, fresh.pk, running.pk])
            .order_by("pk")] == ["done", "queued", "running"]  # fmt: skip
    assert jobs_requeue(now=now) == 0
    assert "requeue-jobs" in settings.CELERY_BEAT_SCHEDULE


def test_the_sweep_takes_over_a_job_whose_worker_died_while_running_it(
    bureau, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    now = timezone.now()
    abandoned = BackgroundJob.objects.create(
        kind="t", title="工作程序中斷", created_by=bureau, task=count_to_three.name,
        status="running", queued_at=now - timedelta(minutes=12),
        claimed_at=now - timedelta(minutes=11),
    )  # fmt: skip
    assert jobs_requeue(now=now) == 1
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.result) == ("done", {"counted": 3})
    assert jobs_requeue(now=now) == 0


def test_the_sweep_with_the_broker_still_away_fails_the_job_with_a_retry(bureau, broker_down):
    from django.utils import timezone

    lost = BackgroundJob.objects.create(
        kind="t", title="遺失", created_by=bureau, task=count_to_three.name,
        queued_at=timezone.now() - timedelta(minutes=6),
    )  # fmt: skip
    assert jobs_requeue() == 0
    lost.refresh_from_db()
    assert (lost.status, lost.retryable) == ("failed", True)


def test_imports_have_their_own_queue_apart_from_vm_evaluation():
    from meetings.tasks import import_preview, import_save
    from signups.tasks import import_workbook
    from vmquota.tasks import evaluate, evaluate_shard

    def queue(task):
        return celery_app.amqp.router.route({}, task.name, (), {})["queue"].name

    assert {queue(t) for t in (import_workbook, import_preview, import_save)} == {"imports"}
    assert {queue(t) for t in (evaluate, evaluate_shard)} == {"celery"}


def test_a_finished_job_says_its_last_word_not_the_last_step(login, bureau):
    job = BackgroundJob.objects.create(kind="t", title="預覽", created_by=bureau)

    def work(job, progress):
        progress(1, 2, "已讀完，正在整理預覽…")
        return {"url": "/preview/", "go": True, "message": "預覽已備妥。"}

    run_job(job.pk, work)
    status = login(bureau).get(reverse("job_status", args=[job.pk])).json()
    assert (status["status_label"], status["message"]) == ("完成", "預覽已備妥。")
    assert status["go"] is True and status["percent"] == 100


def test_a_job_refused_with_a_reason_offers_to_start_over_where_it_came_from(login, bureau):
    job = job_start(kind="t", title="匯入", user=bureau, task=count_to_three, back_url="/again/")
    run_job(job.pk, lambda job, progress: (_ for _ in ()).throw(ValueError("第 3 行：缺少日期")))
    page = login(bureau).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "這項工作沒有完成：第 3 行：缺少日期" in page
    assert '<p id="job-back"><a class="btn btn-primary" id="job-back-link" href="/again/">' in page
    assert login(bureau).get(reverse("job_status", args=[job.pk])).json()["back_url"] == "/again/"
