"""Celery tasks: load by id, claim with a conditional UPDATE, call domain code. Safe to run twice."""

from celery import shared_task
from django.utils import timezone

from portal.jobs import run_job
from portal.mail import send_email

from .models import Reminder, StatusChange, Survey


@shared_task(name="signups.tasks.send_reminder", autoretry_for=(OSError,), retry_backoff=60,
             max_retries=5)  # fmt: skip
def send_reminder(reminder_id):
    """E-mail one school's coordinators (a district-filed survey: also the district's
    conveners) that the survey is waiting for their answer."""
    claimed = Reminder.objects.filter(pk=reminder_id, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    if claimed != 1:
        return False  # another worker (or an earlier run) sent it
    from .filers import emails

    reminder = Reminder.objects.select_related("survey", "school").get(pk=reminder_id)
    try:
        send_email(
            "signups_reminder",
            {"survey": reminder.survey, "school": reminder.school, "reminder": reminder},
            emails(reminder.survey, reminder.school),
        )
    except Exception:
        # give the claim back so the retry sends it
        Reminder.objects.filter(pk=reminder_id).update(sent_at=None)
        raise
    return True


@shared_task(name="signups.tasks.send_return_notice", autoretry_for=(OSError,), retry_backoff=60,
             max_retries=5)  # fmt: skip
def send_return_notice(change_id):
    """Tell the school why the bureau returned its answer."""
    claimed = StatusChange.objects.filter(
        pk=change_id, event=StatusChange.Event.RETURNED, notified_at__isnull=True
    ).update(notified_at=timezone.now())
    if claimed != 1:
        return False
    from .filers import emails

    change = StatusChange.objects.select_related("response__survey", "response__school", "by").get(
        pk=change_id
    )
    try:
        send_email(
            "signups_returned",
            {"survey": change.response.survey, "school": change.response.school, "change": change},
            emails(change.response.survey, change.response.school),
        )
    except Exception:
        StatusChange.objects.filter(pk=change_id).update(notified_at=None)
        raise
    return True


@shared_task(name="signups.tasks.remind_before_deadline")
def remind_before_deadline():
    """Beat: for every open survey whose deadline is within its `reminder_days_before`, remind
    the schools that have not answered – once per survey, school and lead time."""
    from datetime import timedelta

    from .services import reminders_send

    now = timezone.now()
    total = 0
    due = Survey.objects.filter(
        opens_at__lte=now, closes_at__gt=now, reminder_days_before__gt=0, is_draft=False
    )
    for survey in due:
        if survey.closes_at - timedelta(days=survey.reminder_days_before) <= now:
            outcome = reminders_send(survey=survey, kind=f"auto-{survey.reminder_days_before}d")
            total += outcome.sent
    return total


@shared_task(name="signups.tasks.import_workbook")
def import_workbook(job_id):
    """Judge and save a school's uploaded .xlsx, reporting progress on the job page. `run_job`
    claims the job, so a second delivery does nothing; the result page is the import run's."""
    from .services import import_run_process

    def work(job, progress):
        run = import_run_process(run_id=job.params["import_run"], progress=progress)
        return {"url": run.get_absolute_url(), "outcome": run.outcome, "rows": run.rows_saved,
                "problems": len(run.problems)}  # fmt: skip

    return run_job(job_id, work)
