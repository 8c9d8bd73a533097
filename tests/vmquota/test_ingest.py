"""Storing samples: all or nothing, duplicates skipped with the first received winning, inside a
caller's transaction and outside any; and the samples lock every insert takes (PostgreSQL)."""

import json
import threading
from datetime import UTC, timedelta

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.conftest import wait_for
from tests.vmquota import factories
from vmquota.evaluation_runner import committed_horizon
from vmquota.ingest import ingest_rows, store
from vmquota.models import SAMPLES_LOCK, CollectorToken, UsageSample

pytestmark = pytest.mark.django_db
URL = "/api/vmquota/samples"


@pytest.fixture
def db_vm(xindian_school):
    return factories.vm("xd-db", xindian_school)


def minute(i):
    return (
        timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2) + timedelta(minutes=i)
    )


def row(i, vm="xd-web", cpu=10.0, net=5.0):
    return {"vm": vm, "ts": minute(i).isoformat(), "cpu_percent": cpu, "net_kbps": net}


def values(vm):
    return list(
        UsageSample.objects.filter(vm=vm).order_by("ts").values_list("cpu_percent", flat=True)
    )


def test_a_fresh_batch_is_stored_whole(web, db_vm):
    result = ingest_rows([row(i) for i in range(5)] + [row(i, vm="xd-db") for i in range(5)])
    assert (result.received, result.stored, result.errors) == (10, 10, [])
    assert result.vm_ids == {web.pk, db_vm.pk}
    assert values(web) == [10.0] * 5


def test_a_batch_overlapping_stored_samples_keeps_the_stored_ones_and_adds_the_rest(web):
    ingest_rows([row(i, cpu=1.0) for i in range(3)])
    result = ingest_rows([row(i, cpu=2.0) for i in range(6)])
    assert (result.stored, result.duplicates) == (3, 3)
    assert values(web) == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]


def test_duplicates_inside_one_batch_the_first_received_wins(web):
    result = ingest_rows([row(0, cpu=7.0), row(1, cpu=8.0), row(0, cpu=9.0)])
    assert (result.stored, result.duplicates) == (2, 1)
    assert values(web) == [7.0, 8.0]


def test_storing_inside_a_callers_transaction_counts_only_what_it_stored(web, db_vm):
    with transaction.atomic():
        assert store([(web.pk, minute(0), 1.0, 1.0)]) == 1
        assert store([(web.pk, minute(0), 9.0, 1.0), (web.pk, minute(1), 2.0, 1.0)]) == 1
        assert store([(db_vm.pk, minute(0), 3.0, 1.0), (db_vm.pk, minute(0), 4.0, 1.0)]) == 1
    assert values(web) == [1.0, 2.0] and values(db_vm) == [3.0]


def test_a_batch_whose_every_sample_is_stored_already_stores_nothing(web):
    rows = [(web.pk, minute(i), 1.0, 1.0) for i in range(4)]
    assert store(rows) == 4
    assert store(rows) == 0
    assert store([]) == 0
    assert UsageSample.objects.count() == 4


def test_one_bad_row_among_many_stores_nothing(web):
    rows = [row(i) for i in range(50)]
    rows[37] = row(37, cpu=101)
    rows[41] = {**row(41), "vm": "nope"}
    result = ingest_rows(rows)
    assert [(e.index, e.field) for e in result.errors] == [(37, "cpu_percent"), (41, "vm")]
    assert not UsageSample.objects.exists()


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"cpu_percent": True}, "cpu_percent"),
        ({"cpu_percent": float("nan")}, "cpu_percent"),
        ({"net_kbps": float("inf")}, "net_kbps"),
        ({"net_kbps": 10**400}, "net_kbps"),
        ({"ts": " 2019-09-10T10:00:00"}, "ts"),
        ({"ts": 1568080800}, "ts"),
        ({"vm": "   "}, "vm"),
        ({"vm": 5}, "vm"),
    ],
)
def test_the_row_check_lets_no_bad_value_through(web, bad, field):
    result = ingest_rows([row(0), {**row(1), **bad}])
    assert [(e.index, e.field) for e in result.errors] == [(1, field)]
    assert not UsageSample.objects.exists()


def test_a_vm_named_by_uuid_or_name_in_one_batch(web, db_vm):
    result = ingest_rows([row(0), {**row(1), "vm": str(db_vm.uuid).replace("-", "")}])
    assert result.stored == 2 and result.vm_ids == {web.pk, db_vm.pk}


def test_a_key_that_is_one_vms_name_and_anothers_uuid_means_the_uuids_vm(web, xindian_school):
    target = factories.vm("xd-target", xindian_school)
    factories.vm(str(target.uuid), xindian_school)  # a VM named like another's UUID
    assert ingest_rows([{**row(0), "vm": str(target.uuid)}]).vm_ids == {target.pk}


def test_timestamps_with_z_and_other_offsets_are_stored_as_the_same_instant(web):
    ts = minute(0)
    ingest_rows([{**row(0), "ts": ts.astimezone(UTC).isoformat().replace("+00:00", "Z")}])
    assert UsageSample.objects.get().ts == ts


def test_the_api_answers_with_the_counts(client, web):
    token = CollectorToken.issue(name="c", hypervisors=[web.hypervisor])[1]
    body = json.dumps({"samples": [row(0), row(1), row(1)]})
    response = client.post(URL, body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.json() == {"received": 3, "stored": 2, "duplicates": 1}


def test_one_instant_written_with_two_offsets_is_one_sample_the_first_received(web):
    ts = minute(0)
    taipei = ts.astimezone(timezone.get_fixed_timezone(8 * 60)).isoformat()
    result = ingest_rows([row(0, cpu=7.0), {**row(0, cpu=9.0), "ts": taipei}, row(1, cpu=8.0)])
    assert (result.stored, result.duplicates) == (2, 1)
    assert values(web) == [7.0, 8.0]


@pytest.mark.parametrize("offset", ["-23:59", "+16:00", "+05:30:15"])
def test_an_offset_postgresql_cannot_take_is_stored_as_its_instant_on_both_paths(web, offset):
    """Python reads offsets up to ±23:59:59 (with seconds), PostgreSQL only to ±15:59: the
    samples go in as UTC, by COPY and by the insert that takes a batch repeating a stored one."""
    hours, minutes, *seconds = (int(p) for p in offset[1:].split(":"))
    shift = timedelta(hours=hours, minutes=minutes, seconds=seconds[0] if seconds else 0)
    zone = timezone.get_fixed_timezone(shift if offset[0] == "+" else -shift)
    at = [minute(i).astimezone(zone).isoformat() for i in range(2)]
    assert ingest_rows([{**row(0), "ts": at[0]}]).stored == 1  # COPY on PostgreSQL
    repeat = ingest_rows([{**row(0), "ts": at[0]}, {**row(1), "ts": at[1]}])  # the insert
    assert (repeat.stored, repeat.duplicates) == (1, 1)
    assert list(UsageSample.objects.order_by("ts").values_list("ts", flat=True)) == [
        minute(0),
        minute(1),
    ]


def test_instants_a_second_apart_are_two_samples(web):
    ts = minute(0)
    rows = [{**row(0), "ts": (ts + timedelta(seconds=s)).isoformat()} for s in (0, 1, 59)]
    assert ingest_rows(rows).stored == 3


# --- outside a transaction (as under gunicorn), and the samples lock ----------------------------


def _other_session(postgres):
    return psycopg2.connect(**postgres.get_connection_params())


def _waiting_for_the_samples_lock():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objid = %s AND database = (SELECT oid FROM pg_database "
            "WHERE datname = current_database())",
            [SAMPLES_LOCK],
        )
        return cursor.fetchone()[0]


def _in_a_thread(work, done):
    def run():
        try:
            done.append(work())
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_batch_is_stored_whole_repeats_included(web):
    """No caller's transaction, as under gunicorn: each batch commits by itself, with its own
    count of what it stored."""
    assert ingest_rows([row(i, cpu=1.0) for i in range(3)]).stored == 3
    result = ingest_rows([row(i, cpu=2.0) for i in range(6)] + [row(5, cpu=3.0)])
    assert (result.stored, result.duplicates) == (3, 4)
    assert values(web) == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]


def test_the_lock_trigger_takes_the_lock_the_evaluator_takes(postgres):
    """Migration 0005 wrote the lock's number into its trigger; the evaluator's horizon takes
    SAMPLES_LOCK. Were they ever two numbers, the horizon would wait for nobody."""
    with postgres.cursor() as cursor:
        cursor.execute(
            "SELECT p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'vmquota_usagesample'::regclass AND NOT t.tgisinternal"
        )
        (source,) = cursor.fetchone()
    assert f"pg_advisory_xact_lock_shared({SAMPLES_LOCK})" in source


@pytest.mark.django_db(transaction=True)
def test_every_statement_that_inserts_samples_takes_the_samples_lock(web, postgres):
    """The evaluator's horizon relies on it (migration 0005's trigger): while another session
    holds the lock exclusively, the collectors' COPY and a plain ORM insert both wait."""
    other = _other_session(postgres)
    other.autocommit = True
    done = []
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [SAMPLES_LOCK])
            threads = [
                _in_a_thread(lambda: store([(web.pk, minute(0), 1.0, 1.0)]), done),
                _in_a_thread(lambda: UsageSample.objects.create(
                    vm=web, ts=minute(1), cpu_percent=2.0, net_kbps=1.0).pk, done),
            ]  # fmt: skip
            wait_for(lambda: _waiting_for_the_samples_lock() == 2, timeout=20,
                     message="both inserts to wait for the samples lock")  # fmt: skip
            assert not done and not UsageSample.objects.exists()
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SAMPLES_LOCK])
        for thread in threads:
            thread.join(30)
    finally:
        other.close()
    assert len(done) == 2 and values(web) == [1.0, 2.0]


@pytest.mark.django_db(transaction=True)
def test_the_horizon_waits_for_samples_not_yet_committed(web, postgres):
    """committed_horizon never passes a sample whose transaction is still open: the evaluator
    would move its cursor past a row it never read."""
    other = _other_session(postgres)  # a transaction left open, as a slow batch's
    done = []
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "INSERT INTO vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) "
                "VALUES (%s, %s, 1, 1) RETURNING id",
                [web.pk, minute(0)],
            )
            (inserted,) = cursor.fetchone()
        thread = _in_a_thread(committed_horizon, done)
        wait_for(_waiting_for_the_samples_lock, timeout=20, message="the horizon to wait")
        assert not done
        other.commit()
        thread.join(30)
    finally:
        other.close()
    assert done == [inserted]


def test_the_libvirt_collector_checks_its_samples_as_the_api_does(web, xindian_school, monkeypatch):
    """A host whose clock is years off: its sample is skipped and noted on the hypervisor (the
    same value check as the API's); another VM's sample from the same poll is stored."""
    from vmquota import collection
    from vmquota.hypervisors.base import DomainStats

    other = factories.vm("xd-db", xindian_school, hv=web.hypervisor)
    then = timezone.now() - timedelta(minutes=1)
    for vm, at in ((web, then.replace(year=1)), (other, then)):
        vm.counter_cpu_ns, vm.counter_net_bytes, vm.counter_at = 0, 0, at - timedelta(minutes=1)
        vm.save()

    class Host:  # the hypervisor's answer (outside the machine)
        def stats(self):
            return [
                DomainStats(str(web.uuid), 1, 30 * 10**9, 0, then.replace(year=1)),
                DomainStats(str(other.uuid), 1, 30 * 10**9, 0, then),
            ]

    monkeypatch.setattr(collection, "get_adapter", lambda hypervisor: Host())
    assert collection.usage_collect(hypervisor=web.hypervisor) == 1
    assert list(UsageSample.objects.values_list("vm__name", flat=True)) == ["xd-db"]
    web.hypervisor.refresh_from_db()
    assert "xd-web" in web.hypervisor.last_error and "ts" not in web.hypervisor.last_error
