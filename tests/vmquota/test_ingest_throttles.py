"""The ingest API's two throttles: a token's `last_used_at` is written at most once a minute, and
an evaluation is queued at most once per few seconds however many batches arrive – without
losing a batch (all or nothing, idempotent, every batch evaluated soon after it arrived)."""

import importlib.util
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from tests.conftest import wait_for
from tests.vmquota import factories
from vmquota import api, tasks
from vmquota.ingest import NUDGE_KEY, NUDGE_SECONDS, ingest_rows
from vmquota.models import CollectorToken, Incident, UsageSample

pytestmark = pytest.mark.django_db
URL = "/api/vmquota/samples"


def row(minutes_ago, cpu=12.5):
    ts = (timezone.now() - timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat()
    return {"vm": "xd-web", "ts": ts, "cpu_percent": cpu, "net_kbps": 300}


class Statements:
    """The SQL run inside the block (Django's own query log is reset by each request)."""

    def __init__(self):
        self.sql = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def __enter__(self):
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)

    def token_writes(self):
        return [s for s in self.sql if s.startswith('UPDATE "vmquota_collectortoken"')]


def post(client, token, rows):
    with Statements() as statements:
        response = client.post(URL, json.dumps({"samples": rows}), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.status_code == 200, response.content
    return statements


# --- last_used_at --------------------------------------------------------------------------------


def test_last_used_is_written_at_most_once_a_minute(client, token, web):
    first = post(client, token, [row(3)])
    assert len(first.token_writes()) == 1
    used = CollectorToken.objects.get().last_used_at
    assert used is not None

    again = post(client, token, [row(2)])
    assert again.token_writes() == []  # not even an UPDATE that matches nothing
    assert CollectorToken.objects.get().last_used_at == used

    # a minute later it is written again
    CollectorToken.objects.update(last_used_at=used - timedelta(seconds=61))
    later = post(client, token, [row(1)])
    assert len(later.token_writes()) == 1
    assert CollectorToken.objects.get().last_used_at > used


def test_two_requests_that_both_read_a_stale_time_write_it_once(token, web):
    """Both read `last_used_at` from before the minute; the first writes, the second's UPDATE
    finds the row fresh and writes nothing."""
    stale = timezone.now() - timedelta(minutes=5)
    CollectorToken.objects.update(last_used_at=stale)
    one, two = CollectorToken.objects.get(), CollectorToken.objects.get()
    now = timezone.now()
    assert api.record_use(one, now)
    assert not api.record_use(two, now + timedelta(seconds=1))
    assert CollectorToken.objects.get().last_used_at == now


# --- the evaluation nudge ------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.evaluate, "apply_async", lambda *a, **kw: calls.append(kw))
    monkeypatch.setattr(tasks.evaluate, "delay", lambda *a, **kw: calls.append(kw))
    return calls


def ingest_and_commit(rows, capture):
    with capture(execute=True):
        return ingest_rows(rows)


def test_a_stream_of_batches_queues_one_evaluation_per_few_seconds(
    web, queued, django_capture_on_commit_callbacks
):
    batches = [[row(m)] for m in (5, 4, 3)]
    for batch in batches:
        assert ingest_and_commit(batch, django_capture_on_commit_callbacks).stored == 1
    # one evaluation, due after the key expires: it reads every batch committed meanwhile
    assert queued == [{"countdown": NUDGE_SECONDS + 1}]
    assert cache.get(NUDGE_KEY) is not None

    # a resend stores nothing and queues nothing (the same rows: row() reads the clock, and a
    # second may have passed)
    assert ingest_and_commit(batches[0], django_capture_on_commit_callbacks).stored == 0
    assert len(queued) == 1

    cache.delete(NUDGE_KEY)  # NUDGE_SECONDS later the key has expired
    ingest_and_commit([row(2)], django_capture_on_commit_callbacks)
    assert len(queued) == 2
    assert UsageSample.objects.count() == 4


def test_another_processs_nudge_covers_this_one(web, queued, django_capture_on_commit_callbacks):
    cache.add(NUDGE_KEY, 1, timeout=NUDGE_SECONDS)  # another process's nudge
    ingest_and_commit([row(5)], django_capture_on_commit_callbacks)
    assert queued == []


def test_with_the_broker_down_the_next_batch_tries_again(
    web, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    attempts = []

    def broker_down(*args, **kwargs):
        attempts.append(kwargs)
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.evaluate, "apply_async", broker_down)
    assert ingest_and_commit([row(3)], django_capture_on_commit_callbacks).stored == 1
    assert "could not queue an evaluation" in caplog.text
    assert cache.get(NUDGE_KEY) is None  # not throttled by a nudge that never left
    ingest_and_commit([row(2)], django_capture_on_commit_callbacks)
    assert len(attempts) == 2 and UsageSample.objects.count() == 2


# nothing listens on port 1: every call to this cache fails at once
DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_with_the_cache_down_an_evaluation_is_queued_for_every_batch(
    web, queued, settings, caplog, django_capture_on_commit_callbacks
):
    """No shared key to throttle by: rather a cycle per batch than none."""
    settings.CACHES = DEAD_CACHE
    ingest_and_commit([row(3)], django_capture_on_commit_callbacks)
    ingest_and_commit([row(2)], django_capture_on_commit_callbacks)
    assert len(queued) == 2 and UsageSample.objects.count() == 2
    assert "cache key is unavailable" in caplog.text


@pytest.mark.skipif(
    importlib.util.find_spec("django_redis") is None, reason="django-redis not installed"
)
def test_a_cache_that_swallows_its_errors_still_gets_an_evaluation_queued(
    web, queued, settings, django_capture_on_commit_callbacks
):
    """django-redis with IGNORE_EXCEPTIONS answers None, not False, when Redis is away."""
    settings.CACHES = {"default": {**DEAD_CACHE["default"], "OPTIONS": {"IGNORE_EXCEPTIONS": True},
                                   "BACKEND": "django_redis.cache.RedisCache"}}  # fmt: skip
    ingest_and_commit([row(3)], django_capture_on_commit_callbacks)
    assert queued == [{"countdown": NUDGE_SECONDS + 1}]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
def test_many_small_batches_in_a_row_are_all_evaluated_by_one_queued_evaluation(
    celery_worker_process, client, token, xindian_school
):
    """31 one-sample batches posted back to back through the API: they queue one evaluation,
    which a real worker runs after the others were stored – both 30-minute CPU streaks fire
    without waiting for the beat (which does not run here)."""
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
    vm = factories.vm("xd-web", xindian_school)
    for m in range(30, -1, -1):
        post(client, token, [row(m, cpu=100.0)])
    assert UsageSample.objects.filter(vm=vm).count() == 31
    wait_for(lambda: Incident.objects.filter(vm=vm).count() == 2, timeout=60,
             message="one evaluation of all 31 batches")  # fmt: skip
    assert sorted(Incident.objects.values_list("rule__threshold", flat=True)) == [95, 100]
