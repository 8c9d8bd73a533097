"""Evaluation shards: a shard held by one worker is skipped by the others; several processes
share one cycle, each VM's samples evaluated exactly once."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.conftest import _database_url_for_children
from tests.vmquota import factories
from tests.vmquota.traces import at
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import (
    EVALUATION_SHARDS,
    EvaluationCursor,
    Incident,
    StreakState,
    VirtualMachine,
)

ROOT = Path(__file__).resolve().parents[2]


def _raw_connection():
    s = connection.settings_dict
    return psycopg2.connect(
        dbname=s["NAME"], user=s.get("USER") or "postgres", password=s.get("PASSWORD") or None,
        host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432,
    )  # fmt: skip


def vm_in_shard(shard, school, name):
    """A VM whose id falls in the given shard (ids are sequential: make fillers as needed)."""
    while True:
        vm = factories.vm(f"{name}-{VirtualMachine.objects.count()}", school)
        if vm.pk % EVALUATION_SHARDS == shard:
            return vm


@pytest.mark.django_db(transaction=True)
def test_a_shard_held_by_another_worker_is_skipped_then_caught_up(postgres, xindian_school):
    factories.seed_policy()
    held = vm_in_shard(0, xindian_school, "held")
    free = vm_in_shard(1, xindian_school, "free")
    store([(vm.pk, at(m), 99.0, 1.0) for vm in (held, free) for m in range(31)])
    evaluate_cycle(now=at(0), shards=[])  # nothing evaluated: only creates the shard cursors
    assert EvaluationCursor.objects.count() == EVALUATION_SHARDS

    other = _raw_connection()  # another worker, in the middle of shard 0
    try:
        with other.cursor() as cur:
            cur.execute("SELECT id FROM vmquota_evaluationcursor WHERE id = 1 FOR UPDATE")
        stats = evaluate_cycle(now=at(31))
        assert stats["shards"] == EVALUATION_SHARDS - 1
        assert set(Incident.objects.values_list("vm_id", flat=True)) == {free.pk}
        assert not StreakState.objects.filter(vm=held).exists()
    finally:
        other.rollback()
        other.close()
    stats = evaluate_cycle(now=at(31))
    assert stats["shards"] == EVALUATION_SHARDS and stats["samples"] == 31
    assert set(Incident.objects.values_list("vm_id", flat=True)) == {free.pk, held.pk}


@pytest.mark.django_db(transaction=True)
def test_three_processes_share_a_cycle_and_evaluate_every_sample_once(postgres, xindian_school):
    factories.seed_policy()
    vms = [factories.vm(f"vm{i:03d}", xindian_school) for i in range(96)]
    store([(vm.pk, at(m), 100.0, 1.0) for vm in vms for m in range(31)])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings",
           "DJANGO_SECRET_KEY": "test", "DATABASE_URL": _database_url_for_children(),
           "VMQUOTA_HYPERVISOR_ADAPTER": "dryrun", "CELERY_TASK_ALWAYS_EAGER": "false",
           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0", "EMAIL_URL": "consolemail://"}  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "vmquota_evaluate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    stats = [json.loads(out.strip().splitlines()[-1]) for out, _err in results]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _out, err in results]
    # every shard evaluated by exactly one process, every sample seen exactly once
    assert sum(s["shards"] for s in stats) >= EVALUATION_SHARDS
    assert sum(s["samples"] for s in stats) == 96 * 31
    assert sum(s["vms"] for s in stats) == 96
    assert Incident.objects.count() == 96 * 2  # both CPU rules fired once per VM
    # (the samples are from 2019: the cycle at today's clock then ends every streak as no_data)
    assert set(Incident.objects.values_list("end_reason", flat=True)) == {"no_data"}
