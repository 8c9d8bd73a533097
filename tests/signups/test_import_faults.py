"""Redis stops while spreadsheet imports are in flight (PostgreSQL, a real worker).

Three imports meet the outage: one is running in the worker (held inside its save by a row lock
this test takes on a second connection), one waits in Redis's queue behind it (Redis keeps
nothing on disk, so a restart loses it), and one is uploaded while Redis is down. None may answer
500, none may stay 排隊中, none may be imported twice, and the worker must outlive the outage.
"""

import time
from datetime import timedelta

import psycopg2
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portal.celery import app
from portal.jobs import jobs_requeue
from portal.models import AuditEvent, BackgroundJob
from signups import services
from signups.models import ImportRun, StatusChange
from tests.conftest import WorkerProcess, own_redis_port, use_broker, wait_for
from tests.factories import coordinator_of
from tests.signups.test_excel import SEED_ROW, import_url, upload, xlsx
from tests.vmquota.test_faults import RedisServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]


def rows_of(school):
    return [[str(i), SEED_ROW[1], school.name, f"課程 {i}", *SEED_ROW[4:]] for i in range(1, 11)]


@pytest.fixture
def own_redis():
    server = RedisServer(own_redis_port(1)).start()  # its own: stopped and started again
    saved_url, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(app, server.url)
    app.conf.task_always_eager = False
    yield server
    app.conf.task_always_eager = saved_eager
    use_broker(app, saved_url)
    server.stop()


@pytest.fixture
def worker(own_redis, tmp_path):
    process = WorkerProcess(tmp_path, own_redis.url).start()
    yield process
    process.stop()


def job_of(school):
    return ImportRun.objects.select_related("job").get(response__school=school).job


def status_of(job):
    job.refresh_from_db()
    return job.status


def test_imports_in_flight_when_redis_stops_all_end_done_once_and_the_worker_survives(
    postgres, transactional_db, own_redis, worker, client, survey,
    xindian_school, beixin_school, jiangcui_school,
):  # fmt: skip
    people = {s: coordinator_of(s, username=f"coordinator-{s.code}")
              for s in (xindian_school, beixin_school, jiangcui_school)}  # fmt: skip
    held = services.response_get(survey=survey, school=xindian_school)

    def upload_as(school):
        client.force_login(people[school])
        return client.post(import_url(survey, school), {"file": upload(xlsx(rows_of(school)))})

    with psycopg2.connect(**connection.get_connection_params()) as lock:
        with lock.cursor() as c:  # the running import will wait for this row inside its save
            c.execute("SELECT id FROM signups_response WHERE id = %s FOR NO KEY UPDATE", [held.pk])
        assert upload_as(xindian_school).status_code == 302
        running = job_of(xindian_school)
        wait_for(lambda: status_of(running) == "running" and running.message == "儲存中",
                 message="the first import to be saving")  # fmt: skip
        assert upload_as(beixin_school).status_code == 302  # queued behind it, in Redis only
        waiting = job_of(beixin_school)

        own_redis.stop()
        response = upload_as(jiangcui_school)  # the broker is down: answered, not a 500
        assert response.status_code == 302
        unsent = job_of(jiangcui_school)
        assert (status_of(unsent), unsent.retryable) == ("failed", True)
        page = client.get(response.url).content.decode()
        assert "背景工作服務暫時無法連線" in page and ">重試</button>" in page
        lock.rollback()  # the running import finishes while Redis is still down

    wait_for(lambda: status_of(running) == "done", message="the running import to finish")
    own_redis.start()  # an empty Redis: the waiting import's message is gone

    def retried():  # the person presses 重試 until the portal reaches the broker again
        client.force_login(people[jiangcui_school])
        client.post(reverse("job_retry", args=[unsent.pk]))
        return status_of(unsent) != "failed"

    wait_for(retried, timeout=30, message="重試 to reach Redis again")
    wait_for(lambda: status_of(unsent) == "done", timeout=60, message="the retried import")
    time.sleep(2)  # what the worker would have done with the waiting import, it has done
    assert status_of(waiting) == "queued"  # lost with Redis: only the sweep brings it back
    assert jobs_requeue(now=timezone.now() + timedelta(minutes=6)) == 1
    wait_for(lambda: status_of(waiting) == "done", timeout=60, message="the requeued import")

    assert not BackgroundJob.objects.exclude(status="done").exists()
    for school in (xindian_school, beixin_school, jiangcui_school):
        run = ImportRun.objects.get(response__school=school)
        assert (run.outcome, run.rows_saved, run.response.offers.count()) == ("saved", 10, 10)
        assert StatusChange.objects.filter(response=run.response, event="imported").count() == 1
    assert AuditEvent.objects.filter(action="signups.imported").count() == 3
    assert worker.process.poll() is None, worker.log_path.read_text()[-3000:]
