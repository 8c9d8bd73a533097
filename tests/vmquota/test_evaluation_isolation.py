"""One VM's bad data never stops the evaluation of the others: it is logged, audited and skipped,
every other VM and shard is evaluated in the same cycle, and /healthz names an evaluation that
keeps failing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.models import AuditEvent
from portal.tasks import record_heartbeat
from tests.vmquota import factories
from tests.vmquota.test_shards import vm_in_shard
from tests.vmquota.traces import at
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import Action, Incident, VirtualMachine

pytestmark = pytest.mark.django_db


def insert_unreadable_sample(vm, n=0, year="0001"):
    """A row written past the API (by hand, an old collector, a restore): on PostgreSQL a time
    it holds but Python cannot read back (a collector's year 1 at +08:00 is stored as
    1 BC); SQLite keeps whatever text it is given, which Django reads as no time at all. `n`
    makes each row its own (vm, ts)."""
    if connection.vendor == "postgresql":
        bad_ts = f"{year}-01-01T00:{n:02d}:00+08:00"
    else:
        bad_ts = f"not a time {n}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) "
            "VALUES (%s, %s, 50, 1)",
            [vm.pk, bad_ts],
        )


def pegged(vm, minutes=40):
    store([(vm.pk, at(m), 100.0, 1.0) for m in range(minutes + 1)])


@pytest.fixture
def room(xindian_school):
    """A VM with a bad row in shard 0, a VM beside it and one in a later shard, both at 100 %
    CPU for 40 minutes."""
    factories.seed_policy()
    return {
        "broken": vm_in_shard(0, xindian_school, "broken"),
        "neighbour": vm_in_shard(0, xindian_school, "neighbour"),
        "later": vm_in_shard(5, xindian_school, "later"),
    }


def test_a_vm_with_an_unreadable_sample_is_skipped_and_audited_the_rest_is_enforced(room):
    pegged(room["neighbour"])
    pegged(room["later"])
    insert_unreadable_sample(room["broken"])
    stats = evaluate_cycle(now=at(40))

    assert stats["failed_vms"] == 1 and stats["failed_shards"] == 0
    for name in ("neighbour", "later"):
        vm = room[name]
        assert Incident.objects.filter(vm=vm, rule__action="suspend").exists(), name
        # queued on commit (its run is tests/vmquota/test_actions.py's)
        assert Action.objects.get(incident__vm=vm, kind="suspend").status == "pending"
    assert not Incident.objects.filter(vm=room["broken"]).exists()
    (failure,) = AuditEvent.objects.filter(action="vmquota.evaluation_failed")
    assert failure.target == f"虛擬機 {room['broken'].name}"
    assert failure.detail["vm"] == room["broken"].pk and failure.detail["shard"] == 0
    assert failure.detail["error"]

    # the bad row is behind the shard's cursor now: the next cycle runs clean
    assert evaluate_cycle(now=at(41))["failed_vms"] == 0


def test_healthz_names_an_evaluation_that_keeps_failing(room, client):
    record_heartbeat.delay()  # a live worker: only the evaluation can fail the check
    insert_unreadable_sample(room["broken"], 0)
    evaluate_cycle(now=at(1))
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()  # once is audited, not alarming

    insert_unreadable_sample(room["broken"], 1)
    evaluate_cycle(now=at(3))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["evaluation"]
    assert "2 次評估" in body["evaluation"] and "1 台虛擬機" in body["evaluation"]
    assert "broken" not in body["evaluation"]  # /healthz answers anyone: counts, no names

    AuditEvent.objects.filter(action="vmquota.evaluation_failed").update(
        at=timezone.now() - timedelta(minutes=11)
    )
    assert client.get("/healthz").status_code == 200  # failures older than the window


def test_a_late_sample_whose_rewind_fails_is_skipped_and_the_cycle_goes_on(room):
    """A late sample makes the evaluator re-read the VM's stored history: an unreadable row
    there (year 10001 on PostgreSQL) fails that VM's rewind only, cycle after cycle."""
    broken, later = room["broken"], room["later"]
    store([(broken.pk, at(m), 10.0, 1.0) for m in range(5, 10)])
    evaluate_cycle(now=at(10))
    insert_unreadable_sample(broken, year="10001")
    assert evaluate_cycle(now=at(11))["failed_vms"] == 1  # read as a new row: skipped
    store([(broken.pk, at(3), 10.0, 1.0)])  # late: before what was already evaluated
    pegged(later)
    stats = evaluate_cycle(now=at(40))
    assert (stats["late_vms"], stats["failed_vms"]) == (1, 1)
    assert Incident.objects.filter(vm=later, rule__action="suspend").exists()
    assert VirtualMachine.objects.get(pk=broken.pk).last_sample_at == at(9)
    failures = AuditEvent.objects.filter(
        action="vmquota.evaluation_failed", target__contains="broken"
    )
    assert failures.count() == 2
