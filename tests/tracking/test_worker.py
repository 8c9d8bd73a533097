"""A real Celery worker (Redis, PostgreSQL) e-mails a subscriber after an update is committed."""

import pytest
from django.db import connection

from tests.conftest import WorkerProcess, missing_service, use_broker, wait_for
from tracking import services
from tracking.models import Subscription, TrackedItem, UpdateNotice

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def worker(transactional_db, redis_url, tmp_path):
    """tests/conftest.py's celery_worker_process, but with an absolute mail folder: django-environ
    reads filemail:///tmp/x as the relative path tmp/x (four slashes keep it absolute)."""
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL (a worker process cannot share the in-memory SQLite database)")
    from portal.celery import app

    saved_url, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(app, redis_url)
    app.conf.task_always_eager = False
    process = WorkerProcess(
        tmp_path, redis_url, extra_env={"EMAIL_URL": f"filemail:///{tmp_path / 'mail'}"}
    ).start()
    try:
        yield process
    finally:
        process.stop()
        app.conf.task_always_eager = saved_eager
        use_broker(app, saved_url)


def test_the_worker_emails_the_subscriber_once(worker, imported_seed, platform_clerk, coordinator):
    item = TrackedItem.objects.get(case_no="108-09-01")
    Subscription.objects.create(item=item, user=coordinator)
    update = services.status_update_post(item=item, user=platform_clerk, text="工作程序寄出的通知")
    mails = wait_for(worker.sent_mail, message="the subscriber's e-mail")
    assert len(mails) == 1
    assert "108-09-01" in mails[0] and coordinator.email in mails[0]
    assert UpdateNotice.objects.filter(update=update, user=coordinator).count() == 1
