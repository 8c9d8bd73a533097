"""Faults with jobs in flight: a worker killed during a suspension whose streak then
ends, and Redis stopped while an evaluation cycle with alerts to send is running. PostgreSQL,
Redis and real worker processes, with the helpers of test_faults.py (its own redis-server is on
tests.conftest.own_redis_port(0)). What must hold: nothing lost, nothing doubled, no action stuck."""

import email
import os
import signal
import time
from datetime import timedelta
from email.header import decode_header, make_header

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import use_broker, wait_for
from tests.factories import coordinator_of
from tests.vmquota import factories
from tests.vmquota import test_faults as faults
from tests.vmquota.test_faults import TEST_DOMAIN, children_of, pegged
from vmquota.actions import actions_requeue
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import SAMPLES_LOCK, Action, Incident, VmStateChange

libvirt = pytest.importorskip("libvirt")
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]
COORDINATOR = "xindian-coordinator@ntpc.edu.tw"
# test_faults.py's fixtures: Redis as the broker, worker processes, a redis-server of its own
broker, workers, own_redis = faults.broker, faults.workers, faults.own_redis


def messages(*started):
    """Every e-mail the workers sent, as (subject, [recipients], text)."""
    out = []
    for worker in started:
        for text in worker.sent_mail():
            for part in text.split("-" * 79):
                if part.strip():
                    msg = email.message_from_string(part.strip())
                    subject = str(make_header(decode_header(msg["Subject"] or "")))
                    to = [a.strip() for a in (msg["To"] or "").split(",")]
                    plain = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
                    if plain["Content-Transfer-Encoding"] in ("base64", "quoted-printable"):
                        body = plain.get_payload(decode=True).decode("utf-8")
                    else:
                        body = plain.get_payload()
                    out.append((subject, to, body))
    return out


def to_school(*started):
    """The e-mails about the room's VMs to 新店國小's coordinator (not the policy's announcement)."""
    return [m for m in messages(*started) if COORDINATOR in m[1] and "公告" not in m[0]]


def nothing_left_to_do():
    return not Action.objects.filter(status__in=["pending", "running"]).exists()


def test_a_worker_killed_mid_suspension_whose_streak_then_ends_tells_the_school_once(
    broker, workers, xindian_school
):
    worker = workers(broker, VMQUOTA_HYPERVISOR_ADAPTER="libvirt",
                     VMQUOTA_HYPERVISOR_TEST_DELAY_S="3", VMQUOTA_HYPERVISOR_TIMEOUT_S="20")  # fmt: skip
    coordinator_of(xindian_school, username="xindian-coordinator")
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
    vm = factories.vm("test", xindian_school, hv=factories.hypervisor("test:///default"),
                      uid=TEST_DOMAIN)  # fmt: skip
    samples = pegged(vm)
    store(samples)
    evaluate_cycle()  # the ≥ 95 % alert is folded into the ≥ 100 % suspension, which is queued
    suspend = Action.objects.get(kind="suspend")
    assert Action.objects.get(kind="alert").folded_into == suspend

    wait_for(lambda: "TEST_DELAY_S: waiting" in worker.log_path.read_text(), timeout=30,
             message="the worker to be inside the suspension")  # fmt: skip
    (child,) = children_of(worker.process.pid)
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: "SIGKILL" in worker.log_path.read_text(), message="the pool to see the kill")

    # while the dead worker's row says "running", the VM calms down and the streak ends
    last = samples[-1][1]
    store([(vm.pk, last + timedelta(minutes=1), 3.0, 0.0)])
    evaluate_cycle()
    assert Incident.objects.filter(ended_at__isnull=False).count() == 2
    time.sleep(2)  # the redelivered message finds the row claimed and does nothing
    suspend.refresh_from_db()
    assert suspend.status == "running"

    # the requeue beat, once the claim is older than its 10 minutes – twice, as two beats would
    actions_requeue(now=timezone.now() + timedelta(minutes=11))
    actions_requeue(now=timezone.now() + timedelta(minutes=11))
    wait_for(lambda: to_school(worker), timeout=40, message="the school's e-mail")
    wait_for(nothing_left_to_do, timeout=20, message="every action to finish")
    from vmquota.tasks import act

    for pk in Action.objects.values_list("pk", flat=True):  # every delivery once more
        act.delay(pk)
    time.sleep(3)

    ((subject, _, body),) = to_school(worker)
    assert "達到暫停條件（未暫停）" in subject
    assert "CPU ≥ 100 %" in body and "CPU ≥ 95 %" in body
    suspend.refresh_from_db()
    assert (suspend.status, suspend.attempts) == ("skipped", 2)
    assert not VmStateChange.objects.filter(vm=vm, new="paused").exists()
    assert nothing_left_to_do()
    assert worker.process.poll() is None


def test_redis_stopping_while_a_cycle_with_alerts_runs_loses_and_doubles_nothing(
    postgres, transactional_db, own_redis, workers, xindian_school
):
    from portal.celery import app
    from vmquota.tasks import evaluate

    saved_url, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(app, own_redis.url)
    app.conf.task_always_eager = False
    s = connection.settings_dict
    holder = psycopg2.connect(dbname=s["NAME"], user=s.get("USER") or "postgres",
                              host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432)  # fmt: skip
    holder.autocommit = True
    try:
        worker = workers(own_redis.url, VMQUOTA_HYPERVISOR_ADAPTER="dryrun")
        coordinator_of(xindian_school, username="xindian-coordinator")
        factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
        room = factories.hypervisor("dryrun://room")
        hot = factories.vm("xd-hot", xindian_school, hv=room)  # ≥ 95 %: an alert
        full = factories.vm("xd-full", xindian_school, hv=room)  # 100 %: a suspension
        store(pegged(hot, cpu=97.0) + pegged(full, cpu=100.0))

        with holder.cursor() as cur:
            # the samples lock held elsewhere: the worker's cycle stops inside the database …
            cur.execute("SELECT pg_advisory_lock(%s)", [SAMPLES_LOCK])
            evaluate.delay()

            def cycle_waiting():
                cur.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
                return cur.fetchone()

            wait_for(cycle_waiting, timeout=30, message="the worker's cycle to wait in the DB")
            own_redis.stop()  # … Redis goes away …
            cur.execute("SELECT pg_advisory_unlock(%s)", [SAMPLES_LOCK])  # … and it goes on
        wait_for(lambda: Incident.objects.count() == 3, timeout=30, message="the cycle's commit")
        wait_for(lambda: "could not queue action" in worker.log_path.read_text(), timeout=60,
                 message="the worker to fail to queue the actions")  # fmt: skip
        assert not to_school(worker)
        assert Action.objects.filter(status="pending").count() == 2  # the alert, the suspension

        own_redis.start()

        def requeue():  # what the beat does every minute, once it can publish again
            try:
                return actions_requeue(now=timezone.now() + timedelta(minutes=2)) >= 0
            except Exception:  # noqa: BLE001 – the broker is still coming back
                return False

        wait_for(requeue, timeout=30, message="Redis to accept tasks again")
        wait_for(nothing_left_to_do, timeout=60, message="the actions to be carried out")
        requeue()  # a second beat: nothing is left to send twice
        time.sleep(3)

        subjects = sorted(subject for subject, _, _ in to_school(worker))
        assert subjects == [
            "【虛擬機房】虛擬機 xd-full 已被暫停",
            "【虛擬機房告警】xd-hot：CPU ≥ 95 % 連續 30 分鐘 → 告警",
        ], subjects
        assert VmStateChange.objects.filter(vm=full, new="paused").count() == 1
        assert Action.objects.filter(kind="suspend", status="done").count() == 1
        assert worker.process.poll() is None
    finally:
        holder.close()
        app.conf.task_always_eager = saved_eager
        use_broker(app, saved_url)
