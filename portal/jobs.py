"""Background jobs with progress: start one from a view, run it in a Celery task, watch it.

    job = job_start(kind="signups.import", title="匯入 Excel", user=request.user,
                    task=import_workbook, params={...})
    return redirect(job)                      # the progress page polls /jobs/<id>.json

    @shared_task
    def import_workbook(job_id):
        run_job(job_id, lambda job, progress: do_the_work(job.params, progress))

`progress(done, total, message="")` updates the row; the callable returns the result dict, which
may hold "url" (the result's page, linked when it is done), "go" (true: the job page goes there
by itself, as it promised) and "message" (the last word, replacing the progress message: a
finished job never still says 「正在…」). `job_start(back_url=…)` is where to start over when the
job fails with a reason (the form it came from). Claiming the job (queued → running) is a
conditional UPDATE, so a task delivered twice runs the work once – unless the first claim is
older than STALE_AFTER with no finish (its worker died; acks_late redelivered the task), when the
job is claimed again. The work must therefore be all-or-nothing, as every import here is.

A `ValueError` from the work is a refusal the person can act on (the apps raise them with Chinese
messages) and is shown as it is; anything else is logged and shown as a general failure.

The broker can be away (Redis restarting) and can lose what it held (it keeps nothing on disk).
So no job waits forever as 排隊中 or 處理中: one whose task cannot be sent fails at once with a
reason and a 重試 button (`job_retry`); one still unclaimed QUEUED_TOO_LONG after it was sent, or
still running STALE_AFTER after a worker claimed it (the worker died), is sent again by the beat
(`jobs_requeue`). Sending twice is harmless: only one delivery claims the job.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import BackgroundJob

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)
QUEUED_TOO_LONG = timedelta(minutes=5)
GENERAL_FAILURE = (
    "系統處理時發生錯誤，資料沒有被部分儲存。請稍後再試一次；若持續發生，請聯絡教育局資訊科。"
)
NOT_SENT = (
    "背景工作服務暫時無法連線，這項工作還沒有開始，資料沒有任何變動。請稍後按「重試」；"
    "若持續發生，請聯絡教育局資訊科。"
)


def job_start(*, kind, title, user, task, params=None, back_url=""):
    params = {**(params or {}), **({"back_url": back_url} if back_url else {})}
    job = BackgroundJob.objects.create(kind=kind, title=title, created_by=user, params=params,
                                       task=task.name, queued_at=timezone.now())  # fmt: skip
    transaction.on_commit(lambda: job_send(job))
    return job


def job_send(job):
    """Hand the job's task to the broker. If the broker cannot take it, the job fails now, with
    the reason and a retry, instead of waiting as 排隊中 for a message that was never sent."""
    from .celery import app

    try:
        app.tasks[job.task].delay(job.pk)
    except Exception:  # noqa: BLE001 – any broker error: the person retries, nothing was done
        log.warning("job %s: could not send %s (broker down?)", job.pk, job.task, exc_info=True)
        BackgroundJob.objects.filter(pk=job.pk, status=BackgroundJob.Status.QUEUED).update(
            status=BackgroundJob.Status.FAILED, error=NOT_SENT, finished_at=timezone.now()
        )
        return False
    return True


def job_retry(*, job):
    """Send a job again that failed before any worker took it. False if it is not such a job."""
    retried = BackgroundJob.objects.filter(
        pk=job.pk, status=BackgroundJob.Status.FAILED, claimed_at__isnull=True
    ).exclude(task="")
    if not retried.update(status=BackgroundJob.Status.QUEUED, error="", finished_at=None,
                          queued_at=timezone.now()):  # fmt: skip
        return False
    job.refresh_from_db()
    transaction.on_commit(lambda: job_send(job))
    return True


def jobs_requeue(*, now=None):
    """The beat's sweep: send again every job queued longer than QUEUED_TOO_LONG that no worker
    has claimed (its message was lost with the broker, or never arrived), and every job whose
    worker died while running it (claimed longer than STALE_AFTER ago and not finished; the
    broker would redeliver it only after its visibility timeout, an hour). Returns how many."""
    now = now or timezone.now()
    unclaimed = Q(status=BackgroundJob.Status.QUEUED)
    abandoned = Q(status=BackgroundJob.Status.RUNNING, claimed_at__lt=now - STALE_AFTER)
    stuck = BackgroundJob.objects.filter(
        unclaimed | abandoned, queued_at__lt=now - QUEUED_TOO_LONG
    ).exclude(task="")
    sent = 0
    for job in stuck:
        # claimed by this sweep first (two beats never both send it), then sent; run_job takes
        # an abandoned job over, and the work is all-or-nothing, so nothing is done twice
        if BackgroundJob.objects.filter(pk=job.pk, status=job.status,
                                        queued_at=job.queued_at).update(queued_at=now):  # fmt: skip
            log.info("job %s: unclaimed since %s, sending it again", job.pk, job.queued_at)
            sent += job_send(job)
    return sent


def job_url(job):
    return reverse("job_detail", args=[job.pk])


def run_job(job_id, work):
    now = timezone.now()
    claimable = Q(status=BackgroundJob.Status.QUEUED) | Q(
        status=BackgroundJob.Status.RUNNING, claimed_at__lt=now - STALE_AFTER
    )
    claimed = BackgroundJob.objects.filter(claimable, pk=job_id).update(
        status=BackgroundJob.Status.RUNNING, claimed_at=now
    )
    if claimed != 1:
        log.info("job %s already claimed; not running it twice", job_id)
        return None
    job = BackgroundJob.objects.get(pk=job_id)

    def progress(done, total, message=""):
        BackgroundJob.objects.filter(pk=job_id).update(
            done=done, total=total, message=message[:300]
        )

    try:
        result = work(job, progress) or {}
    except Exception as exc:  # noqa: BLE001 – the person sees the failure on the job page
        if isinstance(exc, ValueError) and str(exc):
            message = str(exc)[:2000]
            log.info("job %s refused: %s", job_id, message)
        else:
            message = GENERAL_FAILURE
            log.exception("job %s failed", job_id)
        BackgroundJob.objects.filter(pk=job_id).update(
            status=BackgroundJob.Status.FAILED, error=message, finished_at=timezone.now()
        )
        return None
    finished = {"message": str(result["message"])[:300]} if result.get("message") else {}
    BackgroundJob.objects.filter(pk=job_id).update(
        status=BackgroundJob.Status.DONE,
        result=result,
        result_url=result.get("url", ""),
        finished_at=timezone.now(),
        **finished,
    )
    return result
