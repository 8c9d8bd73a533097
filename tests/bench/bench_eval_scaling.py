"""Does evaluation throughput grow with the number of worker processes? (1 vs 2 on this machine)

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python -m tests.bench.bench_eval_scaling [--vms 10000] [--minutes 10] [--shards 8]

A throw-away test database gets N VMs and M new minutes of samples each (what the evaluator finds
after M minutes behind). Then the same backlog is evaluated four ways, each timed from start to
the last sample evaluated:

1. vmquota's `evaluate_cycle` in 1 process, then in 2 processes at once. The cycle locks the one
   `EvaluationCursor` row for its whole transaction, so a second process waits and then finds
   nothing to do: today, a second worker adds no evaluation throughput.
2. the same evaluation split into shards claimed by workers – the change proposed for vmquota
   (docs/performance.md): shard k of n owns the VMs with `id % n = k` and keeps its own cursor;
   a worker claims a shard with a conditional UPDATE (`… FOR UPDATE SKIP LOCKED`), evaluates its
   new samples with vmquota's pure `VmEvaluator` and writes `last_sample_at` and the streak states
   back, then claims the next. The claims and per-shard cursors live in a scratch table here
   (vmquota has neither); incidents are counted, not written (none fire in this backlog).

Prints figures, asserts nothing. PostgreSQL only (the claim uses SKIP LOCKED).
"""

import argparse
import multiprocessing
import os
import time
import uuid
from collections import defaultdict
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is shown")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import get_runner, setup_test_environment

    setup_test_environment()
    if connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL=postgres://…")
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        run(args)
    finally:
        runner.teardown_databases(old)


# --- the backlog -------------------------------------------------------------------------------


def build(args):
    from django.db import connection
    from django.utils import timezone

    from portal.models import District, School
    from tests.vmquota.factories import seed_policy
    from vmquota import tasks
    from vmquota.models import Hypervisor, VirtualMachine

    tasks.act.delay = lambda *a, **k: None  # no broker here; nothing fires in this backlog
    district = District.objects.create(name="bench", position=1)
    school = School.objects.create(name="bench", code="E00001", district=district)
    hv = Hypervisor.objects.create(name="bench", uri="dryrun://bench")
    VirtualMachine.objects.bulk_create(
        [VirtualMachine(hypervisor=hv, name=f"vm{i:05d}", uuid=uuid.uuid4(), school=school)
         for i in range(args.vms)], batch_size=5000,
    )  # fmt: skip
    seed_policy(effective_from=timezone.now() - timedelta(days=2))
    t0 = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=args.minutes + 1)
    with connection.cursor() as cursor:
        # minute-major, as collectors deliver them; 1 % of the VMs run hot (streaks open)
        cursor.execute(
            """
            INSERT INTO vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps)
            SELECT v.id, %s::timestamptz + m * interval '1 minute',
                   CASE WHEN v.id %% 100 = 0 THEN 99 ELSE 20 + 40 * random() END,
                   100 + 500 * random()
            FROM generate_series(1, %s) AS m,
                 LATERAL (SELECT id FROM vmquota_virtualmachine) AS v
            """,
            [t0, args.minutes],
        )
        total = cursor.rowcount
        cursor.execute("ANALYZE vmquota_usagesample")
    return t0, total


def reset(t0, shards):
    """Back to 'nothing evaluated since t0' for every way of evaluating."""
    from django.db import connection

    from vmquota.models import Action, EvaluationCursor, Incident, StreakState, VirtualMachine

    Action.objects.all().delete()
    Incident.objects.all().delete()
    StreakState.objects.all().delete()
    VirtualMachine.objects.update(last_sample_at=t0, closed_through=None)
    EvaluationCursor.objects.update_or_create(pk=1, defaults={"last_sample_id": 0})
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_eval_shard")
        cursor.execute(
            "CREATE TABLE bench_eval_shard (shard int PRIMARY KEY, last_sample_id bigint NOT NULL "
            "DEFAULT 0, claimed_by int, claimed_at timestamptz, done_at timestamptz)"
        )
        cursor.execute(
            "INSERT INTO bench_eval_shard (shard) SELECT generate_series(0, %s - 1)", [shards]
        )


# --- the two ways to evaluate, as worker processes ------------------------------------------------


def cycle_worker(_):
    """vmquota as it is: run evaluate_cycle until it finds nothing new."""
    from vmquota.services import evaluate_cycle

    samples = 0
    while True:
        stats = evaluate_cycle()
        samples += stats["samples"]
        if not stats["samples"]:
            return samples


def shard_worker(shards):
    """The proposal: claim a shard, evaluate its new samples, record its cursor, claim the next."""
    from django.db import connection

    samples = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE bench_eval_shard SET claimed_by = %s, claimed_at = now() WHERE shard = "
                "(SELECT shard FROM bench_eval_shard WHERE claimed_by IS NULL ORDER BY shard "
                "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING shard, last_sample_id",
                [os.getpid()],
            )
            claimed = cursor.fetchone()
        if claimed is None:
            return samples
        samples += evaluate_shard(*claimed, shards)


def evaluate_shard(shard, cursor_id, shards):
    from django.db import connection, transaction
    from django.utils import timezone

    from vmquota import evaluation
    from vmquota.ingest import committed_horizon
    from vmquota.models import StreakState
    from vmquota.services import active_version, rule_specs

    version = active_version(timezone.now())
    rules = list(version.rules.all())
    specs = rule_specs(version, rules)
    with transaction.atomic(), connection.cursor() as cursor:
        horizon = committed_horizon()
        cursor.execute(
            "SELECT s.vm_id, s.ts, s.cpu_percent, s.net_kbps FROM vmquota_usagesample s "
            "WHERE s.id > %s AND s.id <= %s AND s.vm_id %% %s = %s",
            [cursor_id, horizon, shards, shard],
        )
        by_vm = defaultdict(list)
        for vm_id, ts, cpu, net in cursor.fetchall():
            by_vm[vm_id].append((ts, cpu, net))
        cursor.execute(
            "SELECT id, last_sample_at FROM vmquota_virtualmachine WHERE id = ANY(%s)",
            [list(by_vm)],
        )
        last = dict(cursor.fetchall())
        states = defaultdict(dict)
        for st in StreakState.objects.filter(vm_id__in=list(by_vm)):
            states[st.vm_id][st.rule_id] = st
        new_last, streak_rows, events = {}, [], 0
        for vm_id, samples in by_vm.items():
            samples.sort(key=lambda s: s[0])
            ev = evaluation.VmEvaluator(specs, version.max_gap, last[vm_id], {
                rule_id: evaluation.Streak(st.start_ts, st.start_value, st.fired_at)
                for rule_id, st in states[vm_id].items()
            })  # fmt: skip
            for ts, cpu, net in samples:
                if last[vm_id] is not None and ts <= last[vm_id]:
                    continue  # late: the real change keeps vmquota's rewind path
                events += len(ev.feed(ts, cpu, net))
            new_last[vm_id] = ev.last_ts
            streak_rows += [
                StreakState(vm_id=vm_id, rule_id=key, start_ts=s.start, start_value=s.start_value,
                            fired_at=s.fired_at)
                for key, s in ev.streaks.items()
            ]  # fmt: skip
        StreakState.objects.filter(vm_id__in=list(by_vm)).delete()
        StreakState.objects.bulk_create(streak_rows)
        if new_last:
            ids, tss = zip(*new_last.items(), strict=True)
            cursor.execute(
                "UPDATE vmquota_virtualmachine v SET last_sample_at = u.ts FROM "
                "unnest(%s::bigint[], %s::timestamptz[]) AS u(id, ts) WHERE v.id = u.id",
                [list(ids), list(tss)],
            )
        cursor.execute(
            "UPDATE bench_eval_shard SET last_sample_id = %s, done_at = now() WHERE shard = %s",
            [horizon, shard],
        )
    return sum(len(s) for s in by_vm.values())


# --- timing ------------------------------------------------------------------------------------


def timed(worker, arg, processes):
    """Wall time for `processes` workers to drain the backlog; returns (seconds, samples)."""
    from django.db import connections

    connections.close_all()  # children open their own connections
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with context.Pool(processes) as pool:
        counts = pool.map(worker, [arg] * processes)
    return time.perf_counter() - started, sum(counts)


def run(args):
    t0, total = build(args)
    print(f"evaluation scaling on PostgreSQL, {os.cpu_count()} cores: backlog of {args.vms:,} VMs × "
          f"{args.minutes} minutes = {total:,} samples; best of {args.repeat} runs each")  # fmt: skip
    print(f"{'way':<48}{'processes':>10}{'seconds':>9}{'samples/s':>11}{'vs 1':>7}")
    for label, worker, arg in (
        ("vmquota evaluate_cycle (one cursor row)", cycle_worker, None),
        (f"shards claimed by workers ({args.shards} shards)", shard_worker, args.shards),
    ):
        base = None
        for processes in (1, 2):
            best = None
            for _ in range(args.repeat):
                reset(t0, args.shards)
                seconds, evaluated = timed(worker, arg, processes)
                if evaluated != total:
                    print(f"  (evaluated {evaluated:,} of {total:,} samples)")
                best = seconds if best is None else min(best, seconds)
            rate = total / best
            base = base or rate
            print(f"{label:<48}{processes:>10}{best:>9.2f}{rate:>11,.0f}{rate / base:>6.2f}×")


if __name__ == "__main__":
    main()
