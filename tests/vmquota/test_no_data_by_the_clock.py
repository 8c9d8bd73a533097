"""A collector that stops sending: the minutely beat task ends the open streaks as no_data at the
last sample + max_gap by the clock, with no later sample needed (a real worker on Redis)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import wait_for
from tests.vmquota import factories
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import Incident, StreakState

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]


def test_the_beat_ends_the_streaks_of_a_vm_whose_samples_just_stop(
    celery_worker_process, xindian_school
):
    from vmquota.tasks import evaluate

    now = timezone.now().replace(second=0, microsecond=0)
    factories.seed_policy(effective_from=now - timedelta(days=1))
    vm = factories.vm("xd-web", xindian_school)
    last = now - timedelta(minutes=8)  # the collector's last sample, 8 minutes ago
    store([(vm.pk, last - timedelta(minutes=30 - m), 97.0, 10.0) for m in range(31)])
    evaluate_cycle(now=last + timedelta(seconds=30))  # the cycle right after it: the alert fires
    assert Incident.objects.get().ended_at is None

    evaluate.delay()  # what the beat sends every minute; nothing new has arrived
    incident = wait_for(
        lambda: Incident.objects.filter(ended_at__isnull=False).first(),
        timeout=60, message="the worker's cycle to end the streak",
    )  # fmt: skip
    assert (incident.ended_at, incident.end_reason) == (last + timedelta(minutes=5), "no_data")
    assert not StreakState.objects.exists()
