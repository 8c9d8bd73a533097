"""A real Celery worker process, on Redis, runs a task; its effect is seen in PostgreSQL."""

import pytest

from portal.models import WorkerHeartbeat
from portal.tasks import record_heartbeat
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres]


def test_a_real_worker_on_redis_records_its_heartbeat_in_postgres(celery_worker_process):
    assert not WorkerHeartbeat.objects.exists()
    record_heartbeat.delay()
    beat = wait_for(lambda: WorkerHeartbeat.objects.first(), message="the worker's heartbeat row")
    assert beat.worker  # the worker's host name, written by the other process
