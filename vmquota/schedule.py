from celery.schedules import crontab

BEAT_SCHEDULE = {
    "vmquota-collect": {"task": "vmquota.collect_all", "schedule": 60.0},
    "vmquota-evaluate": {"task": "vmquota.evaluate", "schedule": 60.0},
    "vmquota-requeue-actions": {"task": "vmquota.requeue_actions", "schedule": 120.0},
    "vmquota-reminders": {"task": "vmquota.send_reminders", "schedule": 600.0},
    "vmquota-sync": {"task": "vmquota.sync_all", "schedule": 600.0},
    "vmquota-purge": {"task": "vmquota.purge_samples", "schedule": crontab(hour=3, minute=17)},
}
