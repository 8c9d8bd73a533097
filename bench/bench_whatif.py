"""The what-if over the stored samples against PostgreSQL streaming the same rows out (prints
figures, asserts nothing). Reads the generated data (`manage.py generate_load_data`), changes
nothing:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python -m bench.bench_whatif [--days 30] [--orm] [--sql]

1. the limit: `psql -c "\\copy (SELECT vm_id, ts, cpu_percent, net_kbps FROM … WHERE ts >= since
   ORDER BY vm_id, ts) TO '/dev/null'"` – PostgreSQL reading the rows in (vm, ts) order and
   sending them out, timed with the process;
2. `whatif.compare` (the seed's four rules against four draft rules), which streams the same rows
   as binary COPY a batch of VMs at a time and folds them over whole columns; the aim is within
   1.5× of the limit;
3. with `--sql`: the same counts computed inside PostgreSQL by gaps-and-islands (window
   functions, only the streaks' first and last rows leave the first pass), for comparison;
4. with `--orm`: the code before the column fold (each VM's samples through the ORM, folded by
   `evaluation.replay` in Python).
"""

import argparse
import os
import subprocess
import time
from collections import Counter
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

LIMIT = 1.5
DRAFT = [
    {"metric": "cpu_percent", "threshold": 90, "minutes": 30, "action": "alert"},
    {"metric": "cpu_percent", "threshold": 98, "minutes": 20, "action": "suspend"},
    {"metric": "net_kbps", "threshold": 20480, "minutes": 30, "action": "alert"},
    {"metric": "net_kbps", "threshold": 25600, "minutes": 15, "action": "suspend"},
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30, help="the what-if's window (30 days)")
    parser.add_argument("--orm", action="store_true", help="also the ORM-per-VM replay (slow)")
    parser.add_argument("--sql", action="store_true", help="also gaps-and-islands in SQL")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from vmquota import evaluation, whatif

    if connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL=postgres://…")
    since = timezone.now() - timedelta(days=args.days)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM vmquota_usagesample WHERE ts >= %s", [since])
        rows = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM vmquota_virtualmachine")
        vms = cur.fetchone()[0]
    print(f"what-if window: last {args.days} days, {rows:,} samples of {vms:,} VMs")
    current, draft = evaluation.seed_rule_specs(), whatif.draft_specs({"rules": DRAFT})
    max_gap = evaluation.DEFAULT_MAX_GAP

    limit_s = psql_copy(connection.settings_dict, since)
    print(f"limit: \\copy (… ORDER BY vm_id, ts) TO '/dev/null' with psql: {limit_s:.2f} s "
          f"({rows / limit_s:,.0f} rows/s)")  # fmt: skip

    t = time.perf_counter()
    seen = []
    result = whatif.compare(current, draft, max_gap, since, progress=lambda d, n: seen.append(d))
    fold_s = time.perf_counter() - t
    print(f"whatif.compare (binary COPY by {whatif.VMS_PER_BATCH} VMs, column fold): "
          f"{fold_s:.2f} s = {fold_s / limit_s:.2f}× the limit (aim ≤ {LIMIT}×: "
          f"{'met' if fold_s <= LIMIT * limit_s else 'NOT met'}); "
          f"{len(seen)} progress steps; totals {result['totals']}")  # fmt: skip

    if args.sql:
        t = time.perf_counter()
        totals = sql_islands(connection, current, draft, max_gap, since)
        sql_s = time.perf_counter() - t
        same = totals == result["totals"]
        print(f"gaps-and-islands in SQL: {sql_s:.2f} s = {sql_s / limit_s:.2f}× the limit; "
              f"totals {'equal' if same else 'DIFFER: ' + str(totals)}")  # fmt: skip
    if args.orm:
        t = time.perf_counter()
        old = orm_compare(current, draft, max_gap, since)
        orm_s = time.perf_counter() - t
        print(f"before (ORM per VM, evaluation.replay): {orm_s:.2f} s = {orm_s / limit_s:.2f}× "
              f"the limit; totals {'equal' if old == result['totals'] else 'DIFFER: ' + str(old)}")  # fmt: skip


def psql_copy(db, since):
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    select = "SELECT vm_id, ts, cpu_percent, net_kbps FROM vmquota_usagesample WHERE ts >= "
    query = f"\\copy ({select}'{since.isoformat()}' ORDER BY vm_id, ts) TO '/dev/null'"
    command = ["psql", "-X", "-q", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
               "-U", db["USER"], "-d", db["NAME"], "-c", query]  # fmt: skip
    t = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    return time.perf_counter() - t


def sql_islands(connection, current, draft, max_gap, since):
    """Fired streaks per action, counted by PostgreSQL: a first window pass marks each rule's
    streak starts and ends, a second (over those rows only) carries each start to its end."""
    rules = [("current", r) for r in current] + [("draft", r) for r in draft]
    gap = f"interval '{int(max_gap.total_seconds())} seconds'"
    marks, keep, carry, counts = [], [], [], []
    for k, (_, r) in enumerate(rules):
        v, t = r.metric, float(r.threshold)
        marks.append(
            f"({v} >= {t} AND NOT (pts IS NOT NULL AND ts - pts <= {gap} AND p_{v} >= {t})) AS s{k},"
            f"({v} >= {t} AND NOT (nts IS NOT NULL AND nts - ts <= {gap} AND n_{v} >= {t})) AS l{k}"
        )
        keep += [f"s{k}", f"l{k}"]
        carry.append(f"s{k}, l{k}, max(CASE WHEN s{k} THEN ts END) OVER w AS st{k}")
        dur = int(r.duration.total_seconds())
        counts.append(f"count(*) FILTER (WHERE l{k} AND ts - st{k} >= interval '{dur} seconds')")
    sql = f"""
        WITH s AS (
          SELECT vm_id, ts, cpu_percent, net_kbps,
                 lag(ts) OVER w AS pts, lead(ts) OVER w AS nts,
                 lag(cpu_percent) OVER w AS p_cpu_percent, lag(net_kbps) OVER w AS p_net_kbps,
                 lead(cpu_percent) OVER w AS n_cpu_percent, lead(net_kbps) OVER w AS n_net_kbps
          FROM vmquota_usagesample WHERE ts >= %s
          WINDOW w AS (PARTITION BY vm_id ORDER BY ts)
        ), f AS (SELECT vm_id, ts, {", ".join(marks)} FROM s),
        g AS (SELECT ts, {", ".join(carry)} FROM f WHERE {" OR ".join(keep)}
              WINDOW w AS (PARTITION BY vm_id ORDER BY ts))
        SELECT {", ".join(counts)} FROM g"""  # noqa: S608 – thresholds and durations are numbers
    with connection.cursor() as cur:
        cur.execute(sql, [since])
        fired = cur.fetchone()
    totals = {"current": Counter(), "draft": Counter()}
    for (label, r), n in zip(rules, fired, strict=True):
        totals[label][r.action] += n
    return {label: {a: n for a, n in c.items() if n} for label, c in totals.items()}


def orm_compare(current, draft, max_gap, since):
    from vmquota import evaluation
    from vmquota.models import UsageSample, VirtualMachine

    totals = {"current": Counter(), "draft": Counter()}
    for vm in VirtualMachine.objects.order_by("pk").iterator():
        qs = UsageSample.objects.filter(vm=vm, ts__gte=since).order_by("ts")
        samples = [(vm.pk, *row) for row in qs.values_list("ts", "cpu_percent", "net_kbps")]
        for label, specs in (("current", current), ("draft", draft)):
            for inc in evaluation.replay(samples, specs, max_gap):
                totals[label][inc.rule.action] += 1
    return {label: dict(c) for label, c in totals.items()}


if __name__ == "__main__":
    main()
