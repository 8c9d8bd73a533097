"""Background jobs with progress: start one from a view, run it in a Celery task, watch it.

    job = job_start(kind="signups.import", title="匯入 Excel", user=request.user,
                    task=import_workbook, params={...})
    return redirect(job)                      # the progress page polls /jobs/<id>.json

    @shared_task
    def import_workbook(job_id):
        run_job(job_id, lambda job, progress: do_the_work(job.params, progress))

`progress(done, total, message="")` updates the row; the callable returns the result dict, which
may hold "url" (where the person goes when it is done). Claiming the job (queued → running) is a
conditional UPDATE, so a task delivered twice runs the work once.
"""

import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import BackgroundJob

log = logging.getLogger(__name__)


def job_start(*, kind, title, user, task, params=None):
    job = BackgroundJob.objects.create(kind=kind, title=title, created_by=user, params=params or {})
    transaction.on_commit(lambda: task.delay(job.pk))
    return job


def job_url(job):
    return reverse("job_detail", args=[job.pk])


def run_job(job_id, work):
    claimed = BackgroundJob.objects.filter(pk=job_id, status=BackgroundJob.Status.QUEUED).update(
        status=BackgroundJob.Status.RUNNING
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
        log.exception("job %s failed", job_id)
        BackgroundJob.objects.filter(pk=job_id).update(
            status=BackgroundJob.Status.FAILED,
            error=str(exc)[:2000] or type(exc).__name__,
            finished_at=timezone.now(),
        )
        return None
    BackgroundJob.objects.filter(pk=job_id).update(
        status=BackgroundJob.Status.DONE,
        result=result,
        result_url=result.get("url", ""),
        finished_at=timezone.now(),
    )
    return result
