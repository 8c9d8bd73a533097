"""Does evaluation throughput grow with the number of worker processes? (1 vs 2 on this machine)

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python -m bench.bench_eval_scaling [--vms 10000] [--minutes 30]

A throw-away test database gets N VMs and M new minutes of samples each: what the evaluator finds
when it is M minutes behind (a restart, a burst of late collectors). The same backlog is then
evaluated by 1 and by 2 worker processes at once, each running vmquota's `evaluate_cycle` until a
pass finds nothing new, timed from the start to the last sample evaluated. vmquota splits the
evaluation into shards (`vm_id % EVALUATION_SHARDS`), each with its own cursor row that a worker
claims with `SELECT … FOR UPDATE SKIP LOCKED` (vmquota/services.py), so a second process takes
the shards the first is not holding. The ratio to 1 process is the figure: on 2 cores shared
with PostgreSQL, the ceiling is below 2.

Prints figures, asserts nothing. PostgreSQL only (the claim uses SKIP LOCKED).
"""

import argparse
import multiprocessing
import os
import time
import uuid
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is shown")
    args = parser.parse_args()

    import django

    django.setup()
    from bench import throwaway_database

    with throwaway_database(postgresql_only=True):
        run(args)


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


def reset(t0):
    """Back to 'nothing evaluated since t0': every shard's cursor before the backlog."""
    from vmquota.models import Action, EvaluationCursor, Incident, StreakState, VirtualMachine

    Action.objects.all().delete()
    Incident.objects.all().delete()
    StreakState.objects.all().delete()
    VirtualMachine.objects.update(last_sample_at=t0, closed_through=None)
    EvaluationCursor.objects.all().delete()  # evaluate_cycle recreates every shard's row at 0


# --- the two ways to evaluate, as worker processes ------------------------------------------------


def cycle_worker(_):
    """A worker: run vmquota's evaluate_cycle until a pass finds nothing new (a pass skips the
    shards another worker holds, so the last pass of each worker comes back empty)."""
    from vmquota.evaluation_runner import evaluate_cycle

    samples = 0
    while True:
        stats = evaluate_cycle()
        samples += stats["samples"]
        if not stats["samples"]:
            return samples


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
    from vmquota.models import EVALUATION_SHARDS

    t0, total = build(args)
    print(f"evaluation scaling on PostgreSQL, {os.cpu_count()} cores: backlog of {args.vms:,} VMs × "
          f"{args.minutes} minutes = {total:,} samples, {EVALUATION_SHARDS} shards claimed with "
          f"SKIP LOCKED; best of {args.repeat} runs each")  # fmt: skip
    print(f"{'worker processes':<18}{'seconds':>9}{'samples/s':>11}{'vs 1':>7}")
    base = None
    for processes in (1, 2):
        best = None
        for _ in range(args.repeat):
            reset(t0)
            seconds, evaluated = timed(cycle_worker, None, processes)
            if evaluated != total:
                print(f"  (evaluated {evaluated:,} of {total:,} samples)")
            best = seconds if best is None else min(best, seconds)
        rate = total / best
        base = base or rate
        print(f"{processes:<18}{best:>9.2f}{rate:>11,.0f}{rate / base:>6.2f}×")


if __name__ == "__main__":
    main()
