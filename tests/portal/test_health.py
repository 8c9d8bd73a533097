from datetime import timedelta

from django.utils import timezone

from portal.models import WorkerHeartbeat
from portal.tasks import record_heartbeat
from tests.conftest import use_broker


def test_health_is_503_and_names_the_worker_when_no_worker_ever_ran(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["db"] == "ok"
    assert body["broker"] == "ok"
    assert body["worker_heartbeat_age_s"] is None
    assert body["failing"] == ["worker"]


def test_health_is_200_after_a_heartbeat(client, db):
    record_heartbeat.delay()  # eager in tests: runs the task's real code
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert 0 <= response.json()["worker_heartbeat_age_s"] < 5


def test_a_stale_heartbeat_fails_the_check(client, db, settings):
    WorkerHeartbeat.objects.create(worker="w1", seen_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


def test_an_unreachable_broker_is_named(client, db, settings):
    from portal.celery import app

    record_heartbeat.delay()
    saved = app.conf.broker_url
    use_broker(app, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        use_broker(app, saved)
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
