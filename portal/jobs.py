"""Background jobs with progress: start one from a view, run it in a Celery task, watch it.

    job = job_start(kind="signups.import", title="匯入 Excel", user=request.user,
                    task=import_workbook, params={...})
    return redirect(job)                      # the progress page polls /jobs/<id>.json

    @shared_task
    def import_workbook(job_id):
        run_job(job_id, lambda job, progress: do_the_work(job.params, progress))

`progress(done, total, message="")` updates the row; the callable returns the result dict, which
may hold "url" (where the person goes when it is done). Claiming the job (queued → running) is a
conditional UPDATE, so a task delivered twice runs the work once – unless the first claim is
older than STALE_AFTER with no finish (its worker died; acks_late redelivered the task), when the
job is claimed again. The work must therefore be all-or-nothing, as every import here is.

A `ValueError` from the work is a refusal the person can act on (the apps raise them with Chinese
messages) and is shown as it is; anything else is logged and shown as a general failure.
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
GENERAL_FAILURE = (
    "系統處理時發生錯誤，資料沒有被部分儲存。請稍後再試一次；若持續發生，請聯絡教育局資訊科。"
)


def job_start(*, kind, title, user, task, params=None):
    job = BackgroundJob.objects.create(kind=kind, title=title, created_by=user, params=params or {})
    transaction.on_commit(lambda: task.delay(job.pk))
    return job


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
    BackgroundJob.objects.filter(pk=job_id).update(
        status=BackgroundJob.Status.DONE,
        result=result,
        result_url=result.get("url", ""),
        finished_at=timezone.now(),
    )
    return result
