"""Celery tasks of the minutes: they take ids, load, and call a service (safe to run twice).

The browser's import runs as two background jobs (portal/jobs.py), so no request waits for
parsing or saving: `import_preview` parses and checks the text and stores what the preview page
shows; `import_save` saves it as a draft in one transaction (services.meeting_import) – a
refusal fails the job with its reasons and nothing is saved. The command line
(`import_minutes`) stays synchronous."""

import base64

from celery import shared_task
from django.urls import reverse

from portal.jobs import run_job

from . import convening, importer, proposals, services


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def send_publication_notices(self, meeting_id):
    try:
        return services.publication_notices_send(meeting_id=meeting_id)
    except services.Meeting.DoesNotExist:
        return 0
    except Exception as exc:  # SMTP down: the claims were released, try again later
        raise self.retry(exc=exc) from exc


def _pdf_text(job, progress):
    """A PDF upload's text, read page by page with the progress bar; kept on the job (the
    PDF itself is dropped) so the save reads the very text the preview showed."""
    data = base64.b64decode(job.params["pdf"])

    read = [0, 1]

    def page_read(done, total):
        read[:] = [done, total + 1]  # the last step is the parse and the checks
        progress(done, total + 1, f"正在讀取 PDF 第 {done} 頁（共 {total} 頁）…")

    text = importer.text_from_upload(data, "upload.pdf", progress=page_read)
    job.params = {**job.params, "text": text, "pdf": ""}
    job.save(update_fields=["params"])
    return text, tuple(read)


def preview_work(job, progress):
    progress(0, 2, "正在讀取會議紀錄…")
    if job.params.get("pdf"):
        # the bar never goes back: after a PDF's pages it stands at its last page until the end
        text, _read = _pdf_text(job, progress)
    else:
        text = job.params["text"]
        progress(1, 2, "已讀完，正在整理預覽…")
    preview = services.meeting_import_preview(
        text=text, header=job.params.get("header"), moves=job.params.get("moves")
    )
    problems = len(preview.get("problems") or [])
    message = f"預覽已備妥，發現 {problems} 個問題，請看預覽。" if problems else "預覽已備妥。"
    url = reverse("meetings:import_preview", args=[job.pk])
    return {**preview, "url": url, "go": True, "message": message}


def save_work(job, progress):
    progress(0, 1, "正在儲存會議紀錄（全部成功才會儲存）…")
    meeting = services.meeting_import(
        text=job.params["text"], user=job.created_by, header=job.params.get("header"),
        moves=job.params.get("moves"),
    )  # fmt: skip
    progress(1, 1, f"已儲存「{meeting.title}」為草稿。")
    return {
        "meeting_id": meeting.pk,
        "title": meeting.title,
        "url": reverse("meetings:edit", args=[meeting.pk]),
        "go": True,  # the import page promised to take the person to the draft
        "message": f"已儲存「{meeting.title}」為草稿。",
    }


@shared_task(acks_late=True)
def import_preview(job_id):
    return run_job(job_id, preview_work)


@shared_task(acks_late=True)
def import_save(job_id):
    return run_job(job_id, save_work)


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def send_announcement(self, announcement_id):
    try:
        return convening.announcement_send(announcement_id=announcement_id)
    except convening.Announcement.DoesNotExist:
        return 0
    except Exception as exc:  # SMTP down: the claims were released, try again later
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True)
def send_proposal_mail(transition_id):
    return proposals.proposal_mail_send(transition_id=transition_id)
