"""A real Celery worker process on Redis, using the PostgreSQL test database, sends the 退回 notice
and the deadline reminder exactly once even when a task is delivered twice, and runs a
spreadsheet import whose file it reads from the database.

Run with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_signups
          PORTAL_TEST_REDIS_URL=redis://127.0.0.1:6379/13 PORTAL_REQUIRE_SERVICES=1
"""

import email
import re
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import BackgroundJob
from signups import services, tasks
from signups.models import ImportRun, Offer, Reminder, Status, StatusChange
from signups.rules import clean_row
from tests import factories
from tests.conftest import wait_for
from tests.signups.conftest import GOOD_ROW
from tests.signups.test_excel import SEED_ROW, import_url, upload, xlsx

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres]


def messages(worker):
    """Every e-mail the worker wrote, as (subject, recipients, body)."""
    found = []
    # read as bytes: the parser decodes an 8-bit body correctly only from bytes
    for path in sorted(worker.mail_dir.glob("*.log")):
        for raw in path.read_bytes().split(b"-" * 79):
            if not raw.strip():
                continue
            msg = email.message_from_bytes(raw.strip())
            body = msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")
            found.append((str(make_header(decode_header(msg["Subject"]))), msg["To"], body))
    return found


def runs_of(worker, task):
    """The worker's log lines saying `task` finished, with what it returned."""
    log = worker.log_path.read_text()
    return re.findall(rf"Task {re.escape(task.name)}\[[^\]]+\] succeeded in [^:]+: (\S+)", log)


def test_the_return_notice_is_sent_by_the_worker_once_though_delivered_twice(
    celery_worker_process, coordinator, bureau, xindian_school, survey
):
    worker = celery_worker_process
    response = services.response_get(survey=survey, school=xindian_school)
    services.offers_save(
        response=response, rows=[clean_row(GOOD_ROW, survey.rules()).values], by=coordinator
    )
    services.response_submit(response=response, by=coordinator)
    # queued to Redis when the service's transaction commits
    change = services.response_return(response=response, by=bureau, comment="請補上教室名稱。")
    tasks.send_return_notice.delay(change.pk)  # the broker delivers it a second time
    wait_for(lambda: len(runs_of(worker, tasks.send_return_notice)) == 2, message="two runs")
    assert sorted(runs_of(worker, tasks.send_return_notice)) == ["False", "True"]
    mails = messages(worker)
    assert len(mails) == 1 and len(worker.sent_mail()) == 1
    subject, to, body = mails[0]
    assert subject == f"【退回】{survey.title}：請修正 新店國小 的填報"
    assert to == coordinator.email
    assert "請補上教室名稱。" in body
    change.refresh_from_db()
    assert change.notified_at is not None
    assert response.changes.get(event=StatusChange.Event.RETURNED).new_status == Status.RETURNED


def test_the_deadline_reminder_is_sent_by_the_worker_once_though_delivered_twice(
    celery_worker_process, beixin_school, survey
):
    worker = celery_worker_process
    clerk = factories.coordinator_of(beixin_school, email="it@psps.ntpc.edu.tw")
    survey.closes_at = timezone.now() + timedelta(days=2)  # within reminder_days_before (3)
    survey.save()
    tasks.remind_before_deadline.delay()
    tasks.remind_before_deadline.delay()  # beat fired twice (or the message came back)
    wait_for(lambda: len(runs_of(worker, tasks.remind_before_deadline)) == 2, message="beat")
    assert sorted(runs_of(worker, tasks.remind_before_deadline)) == ["0", "1"]
    reminder = Reminder.objects.get()
    assert (reminder.school, reminder.kind) == (beixin_school, "auto-3d")
    wait_for(lambda: runs_of(worker, tasks.send_reminder), message="the reminder sent")
    tasks.send_reminder.delay(reminder.pk)  # the send itself delivered again
    wait_for(lambda: len(runs_of(worker, tasks.send_reminder)) == 2, message="two sends")
    assert sorted(runs_of(worker, tasks.send_reminder)) == ["False", "True"]
    mails = messages(worker)
    assert len(mails) == 1 and len(worker.sent_mail()) == 1
    subject, to, body = mails[0]
    assert subject.startswith(f"【提醒】{survey.title} 將於")
    assert to == clerk.email
    assert "北新國小" in body
    reminder.refresh_from_db()
    assert reminder.sent_at is not None


def test_the_worker_imports_a_spreadsheet_stored_in_the_database(
    celery_worker_process, client, coordinator, xindian_school, survey
):
    rows = [[str(i), *SEED_ROW[1:3], f"課程 {i}", *SEED_ROW[4:]] for i in range(1, 31)]
    client.force_login(coordinator)
    r = client.post(import_url(survey, xindian_school), {"file": upload(xlsx(rows))})
    job = BackgroundJob.objects.get()
    assert r.url == reverse("job_detail", args=[job.pk])
    done = wait_for(
        lambda: BackgroundJob.objects.filter(pk=job.pk, status="done").first(), message="import"
    )
    run = ImportRun.objects.get()
    assert (done.result_url, done.done, done.total) == (run.get_absolute_url(), 30, 30)
    assert (run.outcome, run.rows_saved, run.data) == ("saved", 30, None)
    assert Offer.objects.count() == 30
    page = client.get(done.result_url).content.decode()
    assert "已匯入 30 列並存為草稿" in page
