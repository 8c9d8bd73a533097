"""Celery tasks of the tracking app: they take ids, load, and call a service (safe to run twice)."""

from celery import shared_task

from . import services


@shared_task(name="tracking.tasks.notify_subscribers", autoretry_for=(OSError,), max_retries=5,
             retry_backoff=True)  # fmt: skip
def notify_subscribers(update_id):
    """E-mail the item's subscribers about one new 辦理情形 (queued on commit)."""
    return services.update_notify(update_id=update_id)


@shared_task(name="tracking.tasks.send_status_reminders")
def send_status_reminders():
    """Beat: before each meeting, remind each division of its items lacking a 現辦理情形."""
    return len(services.reminders_send())
