"""Periodic tasks of the signups app, merged into CELERY_BEAT_SCHEDULE by the settings."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Hourly is enough: the task itself decides which surveys are N days from their deadline and
    # the unique reminder rows make every run after the first a no-op.
    "signups-remind-before-deadline": {
        "task": "signups.tasks.remind_before_deadline",
        "schedule": crontab(minute=15),
    },
}
