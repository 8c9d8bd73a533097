"""Celery tasks of the minutes: they take ids, load, and call a service (safe to run twice)."""

from celery import shared_task

from . import services


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def send_publication_notices(self, meeting_id):
    try:
        return services.publication_notices_send(meeting_id=meeting_id)
    except services.Meeting.DoesNotExist:
        return 0
    except Exception as exc:  # SMTP down: the claims were released, try again later
        raise self.retry(exc=exc) from exc
