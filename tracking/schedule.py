"""Periodic tasks of the tracking app, merged into CELERY_BEAT_SCHEDULE by portal/settings.py."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Every morning; the task only writes to divisions once per meeting (Reminder rows).
    "tracking-status-reminders": {
        "task": "tracking.tasks.send_status_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
}
