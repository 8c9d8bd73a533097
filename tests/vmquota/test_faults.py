"""Faults on PostgreSQL + Redis + real worker processes.

Each test starts what it needs: worker processes (tests.conftest.WorkerProcess), its own
redis-server to stop and start again (tests.conftest.own_redis_port, so parallel workers and two
runs on one machine can each have their own), a tiny SMTP sink, a gunicorn server. Only
outbound things are simulated – a hypervisor that hangs is a TCP port that accepts and never
answers; a slow suspension is VMQUOTA_HYPERVISOR_TEST_DELAY_S in the adapter; a database restart
is pg_terminate_backend on the request's connection. Nothing of the code under test is mocked.
"""

import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from portal.models import AuditEvent
from tests.conftest import (
    WorkerProcess,
    _database_url_for_children,
    own_redis_port,
    use_broker,
    wait_for,
)
from tests.factories import coordinator_of
from tests.vmquota import factories
from vmquota.actions import actions_requeue
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import SAMPLES_LOCK, Action, CollectorToken, Incident, VmStateChange

libvirt = pytest.importorskip("libvirt")
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]
TEST_DOMAIN = "6695eb01-f6a4-8304-79aa-97f2502e193f"  # the `test` domain of test:///default
FAST_RETRIES = {"VMQUOTA_ACTION_MAX_ATTEMPTS": "2", "VMQUOTA_ACTION_RETRY_BASE_S": "1"}


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture
def broker(postgres, transactional_db, redis_url):
    """This process's tasks go to Redis (not eager), like the web process in production."""
    from portal.celery import app

    saved_url, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(app, redis_url)
    app.conf.task_always_eager = False
    yield redis_url
    app.conf.task_always_eager = saved_eager
    use_broker(app, saved_url)


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(broker_url, name="w", **env):
        folder = tmp_path / name
        folder.mkdir()
        worker = WorkerProcess(folder, broker_url, extra_env=env)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def pegged(vm, cpu=100.0, minutes=31):
    """`minutes` one-minute samples ending now, at `cpu` %."""
    end = timezone.now().replace(microsecond=0)
    return [(vm.pk, end - timedelta(minutes=minutes - 1 - i), cpu, 1.0) for i in range(minutes)]


def mails(*workers):
    return [m for w in workers for m in w.sent_mail()]


def subjects_with(text, *workers):
    return [m for m in mails(*workers) if text in m]


def decoded_subjects(*workers):
    import email
    from email.header import decode_header, make_header

    out = []
    for text in mails(*workers):
        for part in text.split("-" * 79):
            if part.strip():
                msg = email.message_from_string(part.strip())
                out.append(str(make_header(decode_header(msg["Subject"] or ""))))
    return out


def children_of(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


# --- 1. kill -9 a worker in the middle of a suspension --------------------------------------------


def test_a_worker_killed_mid_suspension_suspends_the_vm_exactly_once(
    broker, workers, xindian_school
):
    worker = workers(broker, VMQUOTA_HYPERVISOR_ADAPTER="libvirt",
                     VMQUOTA_HYPERVISOR_TEST_DELAY_S="3", VMQUOTA_HYPERVISOR_TIMEOUT_S="20")  # fmt: skip
    coordinator_of(xindian_school, username="xindian-coordinator")
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
    vm = factories.vm("test", xindian_school, hv=factories.hypervisor("test:///default"),
                      uid=TEST_DOMAIN)  # fmt: skip
    store(pegged(vm))
    evaluate_cycle()  # commits; on commit the suspend task goes to Redis
    suspend = Action.objects.get(kind="suspend")

    wait_for(lambda: "TEST_DELAY_S: waiting" in worker.log_path.read_text(), timeout=30,
             message="the worker to be inside the suspension")  # fmt: skip
    (child,) = children_of(worker.process.pid)
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: "SIGKILL" in worker.log_path.read_text(), message="the pool to see the kill")
    # acks_late + reject_on_worker_lost: the message is delivered again, but the row is claimed
    # ("running") – the redelivery does nothing rather than act twice
    time.sleep(2)
    suspend.refresh_from_db()
    assert (suspend.status, suspend.attempts) == ("running", 1)
    assert not VmStateChange.objects.filter(vm=vm, new="paused").exists()

    # the requeue beat, once the claim is older than its 10 minutes, hands it back
    assert actions_requeue(now=timezone.now() + timedelta(minutes=11)) >= 1
    wait_for(lambda: Action.objects.filter(pk=suspend.pk, status="done").exists(), timeout=40,
             message="the suspension to be carried out after the requeue")  # fmt: skip
    suspend.refresh_from_db()
    assert (suspend.attempts, suspend.observed_state) == (2, "paused")
    assert VmStateChange.objects.filter(vm=vm, new="paused").count() == 1
    assert AuditEvent.objects.filter(action="vmquota.suspended").count() == 1
    notices = wait_for(lambda: [s for s in decoded_subjects(worker) if "已被暫停" in s],
                       message="the suspension notice")  # fmt: skip
    time.sleep(1)
    assert len([s for s in decoded_subjects(worker) if "已被暫停" in s]) == len(notices) == 1


# --- 2. Redis stops while collectors post samples -------------------------------------------------


class RedisServer:
    def __init__(self, port):
        self.port, self.process = port, None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: _port_open(self.port), timeout=10, message="redis-server")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_for(lambda: not _port_open(self.port), timeout=10, message="redis-server to stop")


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def own_redis():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = RedisServer(own_redis_port(0)).start()
    yield server
    server.stop()


def test_with_redis_down_samples_are_stored_and_evaluation_catches_up(
    postgres, transactional_db, own_redis, workers, client, xindian_school
):
    from portal.celery import app
    from vmquota.tasks import evaluate

    saved_url, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(app, own_redis.url)
    app.conf.task_always_eager = False
    try:
        worker = workers(own_redis.url, VMQUOTA_HYPERVISOR_ADAPTER="dryrun")
        factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
        vm = factories.vm("xd-moodle", xindian_school, hv=factories.hypervisor("dryrun://room"))
        _, token = CollectorToken.issue(name="collector", hypervisors=[vm.hypervisor])
        rows = [{"vm": "xd-moodle", "ts": ts.isoformat(), "cpu_percent": cpu, "net_kbps": net}
                for _, ts, cpu, net in pegged(vm)]  # fmt: skip

        own_redis.stop()
        started = time.monotonic()
        response = client.post("/api/vmquota/samples", json.dumps({"samples": rows}),
                               content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
        assert response.status_code == 200, response.content
        assert response.json() == {"received": 31, "stored": 31, "duplicates": 0}
        assert time.monotonic() - started < 10  # the failed nudge does not hang the collector
        assert vm.samples.count() == 31
        assert not Incident.objects.exists()  # nothing can run the evaluation yet

        own_redis.start()

        def beat_sends_evaluate():  # what the beat does every minute, once it can publish again
            try:
                evaluate.delay()
            except Exception:  # noqa: BLE001 – the broker is still coming back
                return False
            return True

        wait_for(beat_sends_evaluate, timeout=20, message="Redis to accept tasks again")
        wait_for(lambda: Action.objects.filter(kind="suspend", status="done").exists(),
                 timeout=60, message="evaluation to catch up and the worker to suspend")  # fmt: skip
        assert sorted(Incident.objects.values_list("rule__threshold", flat=True)) == [95, 100]
        assert worker.process.poll() is None
    finally:
        app.conf.task_always_eager = saved_eager
        use_broker(app, saved_url)


# --- 3. the same task twice (two beats, redelivery): nothing twice --------------------------------


def test_tasks_delivered_twice_to_two_workers_act_once(broker, workers, xindian_school):
    from vmquota.tasks import act, evaluate, send_reminders

    first = workers(broker, "w1", VMQUOTA_HYPERVISOR_ADAPTER="dryrun", VMQUOTA_REMINDER_HOURS="1")
    second = workers(broker, "w2", VMQUOTA_HYPERVISOR_ADAPTER="dryrun", VMQUOTA_REMINDER_HOURS="1")
    coordinator_of(xindian_school, username="xindian-coordinator")
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
    room = factories.hypervisor("dryrun://room")
    hot = factories.vm("xd-hot", xindian_school, hv=room)  # ≥ 95 %: an alert
    pegged_vm = factories.vm("xd-pegged", xindian_school, hv=room)  # 100 %: a suspension
    store(pegged(hot, cpu=97.0) + pegged(pegged_vm, cpu=100.0))
    evaluate.delay()
    evaluate.delay()  # two beats fire the same minute
    wait_for(lambda: Action.objects.filter(status__in=["done", "folded"]).count() >= 3,
             timeout=60, message="the alert and the suspension")  # fmt: skip
    alert = Action.objects.get(kind="alert", vm=hot)
    suspend = Action.objects.get(kind="suspend")
    for _ in range(2):  # the same deliveries again, to whichever worker takes them
        act.delay(alert.pk)
        act.delay(suspend.pk)

    # the alert has lasted more than the reminder period: both beats send reminders
    Incident.objects.filter(vm=hot).update(fired_at=timezone.now() - timedelta(minutes=70))
    send_reminders.delay()
    send_reminders.delay()
    wait_for(lambda: Action.objects.filter(kind="reminder", status="done").exists(), timeout=30,
             message="the reminder")  # fmt: skip
    time.sleep(3)  # let any duplicate delivery run
    subjects = decoded_subjects(first, second)
    assert Incident.objects.count() == 3  # hot: ≥ 95; pegged: ≥ 95 and ≥ 100
    assert Action.objects.filter(kind="suspend").count() == 1
    assert Action.objects.filter(kind="reminder").count() == 1
    assert VmStateChange.objects.filter(vm=pegged_vm, new="paused").count() == 1
    assert len([s for s in subjects if "已被暫停" in s]) == 1
    assert len([s for s in subjects if "xd-hot" in s and "提醒" not in s]) == 1, subjects
    assert len([s for s in subjects if "提醒" in s]) == 1, subjects


# --- 4. the hypervisor fails or hangs -------------------------------------------------------------


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never answers: a hypervisor that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    for conn in held:
        conn.close()
    server.close()


def test_a_failing_or_hanging_hypervisor_is_retried_bounded_and_reported_others_go_on(
    broker, workers, xindian_school, silent_port, tmp_path
):
    worker = workers(broker, VMQUOTA_HYPERVISOR_ADAPTER="libvirt",
                     VMQUOTA_HYPERVISOR_TIMEOUT_S="2", **FAST_RETRIES)  # fmt: skip
    coordinator_of(xindian_school, username="xindian-coordinator")
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
    hanging = factories.vm("xd-hang", xindian_school,
                           hv=factories.hypervisor(f"test+tcp://127.0.0.1:{silent_port}/default",
                                                   name="不回應的主機"))  # fmt: skip
    broken = factories.vm("xd-broken", xindian_school,
                          hv=factories.hypervisor(f"test://{tmp_path}/missing.xml", name="壞掉的主機"))  # fmt: skip
    healthy = factories.vm("test", xindian_school, uid=TEST_DOMAIN,
                           hv=factories.hypervisor("test:///default"))  # fmt: skip
    started = time.monotonic()
    store(pegged(hanging) + pegged(broken) + pegged(healthy))
    evaluate_cycle()

    # other VMs: evaluated in the same cycle, and the healthy one is suspended
    assert Incident.objects.filter(vm=healthy).count() == 2
    wait_for(lambda: Action.objects.filter(vm=healthy, kind="suspend", status="done").exists(),
             timeout=60, message="the healthy VM's suspension")  # fmt: skip
    for vm, error in ((hanging, "沒有回應"), (broken, "無法連線")):
        failed = wait_for(
            lambda vm=vm: Action.objects.filter(vm=vm, kind="suspend", status="failed").first(),
            timeout=60, message=f"{vm.name}'s suspension to fail after its retries",
        )  # fmt: skip
        assert failed.attempts == 2 and error in failed.error
        assert failed.next_attempt_at is not None  # it waited (back-off) before the 2nd try
    # bounded: 2 tries × 2 s timeout + 1 s back-off, not forever
    assert time.monotonic() - started < 45
    # the operator is told, once per failed suspension
    ops = wait_for(
        lambda: len([s for s in decoded_subjects(worker) if "處置失敗" in s]) == 2
        and [s for s in decoded_subjects(worker) if "處置失敗" in s],
        timeout=30, message="two operator alerts",
    )  # fmt: skip
    assert len(ops) == 2
    assert Action.objects.filter(kind="operator", status="done").count() == 2


# --- 5. SMTP down ---------------------------------------------------------------------------------


def _subject(raw):
    import email
    from email.header import decode_header, make_header

    return str(make_header(decode_header(email.message_from_bytes(raw)["Subject"] or "")))


class _SmtpSink(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    data += chunk
                self.server.messages.append(data)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_with_smtp_down_the_alert_is_retried_shown_unsent_and_sent_when_it_returns(
    broker, workers, xindian_school, login, bureau
):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there: SMTP is down
    workers(broker, VMQUOTA_HYPERVISOR_ADAPTER="dryrun", EMAIL_URL=f"smtp://127.0.0.1:{port}",
            **FAST_RETRIES)  # fmt: skip
    coordinator_of(xindian_school, username="xindian-coordinator")
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
    vm = factories.vm("xd-hot", xindian_school, hv=factories.hypervisor("dryrun://room"))
    store(pegged(vm, cpu=97.0))
    evaluate_cycle()
    alert = Action.objects.get(kind="alert")

    wait_for(lambda: Action.objects.filter(pk=alert.pk, attempts__gte=2).exists(), timeout=30,
             message="two failed tries")  # fmt: skip
    alert.refresh_from_db()
    assert alert.status in ("pending", "running") and "refused" in alert.error.lower()
    page = login(bureau).get(f"/vmquota/vms/{vm.pk}/").content.decode()
    assert "未寄出" in page

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    sink = Server(("127.0.0.1", port), _SmtpSink)
    sink.messages = []
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        # the requeue beat hands the waiting e-mail to a worker once its retry time has come
        def requeued_and_sent():
            actions_requeue(now=timezone.now() + timedelta(minutes=2))
            return Action.objects.filter(pk=alert.pk, status="done").exists()

        wait_for(requeued_and_sent, timeout=40, interval=2, message="the alert to be sent")
        time.sleep(2)
        subjects = [_subject(m) for m in sink.messages]
        alerts = [
            m for m, subject in zip(sink.messages, subjects, strict=True) if "告警" in subject
        ]
        assert len(alerts) == 1, subjects
        assert b"xindian-coordinator@ntpc.edu.tw" in alerts[0]
        # the operator was told once that the alert could not be sent (and that went out too)
        wait_for(lambda: len([m for m in sink.messages if "處置失敗" in _subject(m)]) == 1,
                 timeout=30, message="the operator notice")  # fmt: skip
        alert.refresh_from_db()
        assert not alert.unsent_mail
    finally:
        sink.shutdown()
        sink.server_close()


# --- 6. the database restarts mid-request ---------------------------------------------------------


def test_the_database_dropping_mid_request_fails_cleanly_and_the_next_request_works(
    postgres, transactional_db, xindian_school, tmp_path
):
    room = factories.hypervisor("dryrun://room")
    factories.vm("xd-web", xindian_school, hv=room)
    _, token = CollectorToken.issue(name="collector", hypervisors=[room])
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_DEBUG": "false",
           "DJANGO_SECRET_KEY": "fault-test", "DATABASE_URL": _database_url_for_children(),
           "DATABASE_CONN_MAX_AGE": "60", "DJANGO_SECURE_SSL_REDIRECT": "false",
           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0", "VMQUOTA_HYPERVISOR_ADAPTER": "dryrun"}  # fmt: skip
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", "1", "--threads", "4", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: _port_open(port), timeout=30, message="gunicorn")

        def post(minute):
            ts = (timezone.now() - timedelta(minutes=minute)).replace(microsecond=0).isoformat()
            body = json.dumps({"samples": [{"vm": "xd-web", "ts": ts, "cpu_percent": 5,
                                            "net_kbps": 1}]}).encode()  # fmt: skip
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/vmquota/samples", data=body, method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode()

        assert post(3)[0] == 200  # the server now holds a persistent connection

        s = connection.settings_dict
        other = psycopg2.connect(dbname=s["NAME"], user=s.get("USER") or "postgres",
                                 host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432)  # fmt: skip
        other.autocommit = True
        with other.cursor() as cur:
            # hold the ingest lock so the next request stops inside the database …
            cur.execute("SELECT pg_advisory_lock(%s)", [SAMPLES_LOCK])
            outcome = {}
            thread = threading.Thread(target=lambda: outcome.update(r=post(2)))
            thread.start()

            def waiting_backend():
                cur.execute(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
                row = cur.fetchone()
                return row and row[0]

            pid = wait_for(waiting_backend, timeout=20, message="the request to wait in the DB")
            # … and take its connection away, as a restart does
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])
            thread.join(30)
            cur.execute("SELECT pg_advisory_unlock(%s)", [SAMPLES_LOCK])
        other.close()

        status, body = outcome["r"]
        assert status == 503, body
        assert json.loads(body)["error"] and "Traceback" not in body and "psycopg2" not in body
        assert post(2) == (200, json.dumps({"received": 1, "stored": 1, "duplicates": 0}))

        # a restart between requests: the idle persistent connection is gone; the health check
        # at the start of the next request notices and reconnects
        with psycopg2.connect(dbname=s["NAME"], user=s.get("USER") or "postgres",
                              host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432) as c2:  # fmt: skip
            with c2.cursor() as cur:
                cur.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND pid <> pg_backend_pid() AND "
                    "pid <> %s AND state = 'idle'", [connection.connection.get_backend_pid()]
                )  # fmt: skip
                assert cur.fetchone()[0] >= 1
        c2.close()
        assert post(1)[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
