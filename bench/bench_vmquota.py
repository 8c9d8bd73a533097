"""vmquota benchmarks (print figures, assert nothing). On PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_vmquota \\
        .venv/bin/python -m bench.bench_vmquota [--vms 10000] [--replay-vms 1000]

1. API ingest (JSON → validation → store), samples/s, against
   a raw COPY of the same rows into the same table, in the same run;
2. one evaluation cycle for the latest minute of N VMs;
3. replay speed (pure evaluation) for M VMs × 3 hours of one-minute samples;
4. small API batches (100 samples a request, as the load benchmark posts them): samples/s, the
   queries of one request and how many evaluations they queue;
5. the VM page: median of 20 renders of a VM with 24 hours of one-minute samples, stored
   interleaved with those of other VMs as a live table stores them (one VM's minute a row
   among the whole room's), queries and milliseconds.
"""

import argparse
import io
import json
import os
import time
import uuid
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--replay-vms", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--processes", type=lambda v: [int(x) for x in v.split(",")], default=[],
                        help="also: the latest-minute cycle shared by N processes, e.g. 1,2,4")  # fmt: skip
    parser.add_argument("--fire", action="store_true", help="also: a cycle where every VM fires")
    parser.add_argument("--profile", action="store_true", help="cProfile the last API request")
    parser.add_argument("--page-vms", type=int, default=200,
                        help="VMs whose 24 h of samples are interleaved for the VM page figure")  # fmt: skip
    parser.add_argument(
        "--only", choices=["ingest", "evaluate", "replay", "small", "vmpage"], default=None
    )
    args = parser.parse_args()

    import django

    django.setup()
    from bench import throwaway_database

    with throwaway_database(postgresql_only=True):
        run(args)


def run(args):
    from django.test import Client
    from django.utils import timezone

    from portal.models import District, School
    from tests.vmquota.factories import seed_policy
    from vmquota import tasks
    from vmquota.models import CollectorToken, Hypervisor, VirtualMachine

    # measure ingest alone: the evaluation it queues is measured separately below
    tasks.evaluate.delay = lambda *a, **k: None
    district = District.objects.create(name="bench", position=1)
    school = School.objects.create(name="bench", code="B00001", district=district)
    hv = Hypervisor.objects.create(name="bench", uri="dryrun://bench")
    VirtualMachine.objects.bulk_create(
        [VirtualMachine(hypervisor=hv, name=f"vm{i:05d}", uuid=uuid.uuid4(), school=school)
         for i in range(args.vms)], batch_size=5000)  # fmt: skip
    vm_ids = dict(VirtualMachine.objects.values_list("name", "pk"))
    names = sorted(vm_ids)
    seed_policy(effective_from=timezone.now() - timedelta(days=2))
    _, token = CollectorToken.issue(name="bench", hypervisors=Hypervisor.objects.all())
    client = Client()
    base = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=30)

    if args.only in (None, "ingest"):
        bench_ingest(args, client, token, names, vm_ids, base)
    if args.only in (None, "evaluate"):
        bench_evaluate(args, vm_ids)
    if args.only in (None, "replay"):
        bench_replay(args, base)
    if args.only in (None, "small"):
        bench_small_batches(client, token, names, base, profile=args.profile)
    if args.only in (None, "vmpage"):
        bench_vm_page(args, vm_ids)


def bench_ingest(args, client, token, names, vm_ids, base):
    from django.db import connection

    # 1. ingest: API batches of 10 000 vs COPY of the same rows (into the same table, other ts)
    n = 10_000
    api_s = copy_s = 0.0
    # a first request pays one-off costs (URL resolver, imports, prepared connection): not ingest
    warm = [{"vm": names[0], "ts": (base - timedelta(days=1)).isoformat(), "cpu_percent": 1,
             "net_kbps": 1}]  # fmt: skip
    client.post("/api/vmquota/samples", json.dumps({"samples": warm}),
                content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    for b in range(args.batches):
        rows = [{"vm": names[i % len(names)], "ts": (base + timedelta(minutes=b * 10 + i // len(names))).isoformat(),
                 "cpu_percent": (i * 7) % 100, "net_kbps": float(i % 3000)} for i in range(n)]  # fmt: skip
        body = json.dumps({"samples": rows})
        if args.profile and b == args.batches - 1:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
        t = time.perf_counter()
        r = client.post("/api/vmquota/samples", body, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
        api_s += time.perf_counter() - t
        if args.profile and b == args.batches - 1:
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(18)
        assert r.status_code == 200 and r.json()["stored"] == n, r.content[:300]
        # the same rows, a year later (so they are new rows in the same table and its indexes)
        buf = io.StringIO("".join(
            f"{vm_ids[row['vm']]}\t{(base + timedelta(days=365, minutes=b * 10 + i // len(names))).isoformat()}"
            f"\t{row['cpu_percent']}\t{row['net_kbps']}\n"
            for i, row in enumerate(rows)
        ))  # fmt: skip
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.cursor.copy_expert(
                "COPY vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) FROM STDIN", buf
            )
        copy_s += time.perf_counter() - t
    total = n * args.batches
    # a resend: half of the batch is stored already (the staging + ON CONFLICT path)
    half = [{**r, "ts": (base - timedelta(days=2) + timedelta(minutes=i // len(names))).isoformat()}
            for i, r in enumerate(rows[: n // 2])]  # fmt: skip
    body = json.dumps({"samples": rows[n // 2 :] + half})
    t = time.perf_counter()
    r = client.post("/api/vmquota/samples", body, content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    resend_s = time.perf_counter() - t
    assert r.status_code == 200 and r.json()["stored"] == n // 2, r.content[:300]
    print(f"ingest: API {total / api_s:,.0f} samples/s, COPY {total / copy_s:,.0f} samples/s "
          f"→ API = {copy_s / api_s:.0%} of COPY ({args.batches} × {n} samples each)")  # fmt: skip
    print(
        f"ingest, a resend with {n // 2:,} of {n:,} already stored: {n / resend_s:,.0f} samples/s"
    )


def bench_evaluate(args, vm_ids):
    from django.utils import timezone

    from vmquota import tasks
    from vmquota.evaluation_runner import evaluate_cycle
    from vmquota.models import UsageSample

    # 2. one evaluation cycle for the latest minute of every VM
    UsageSample.objects.all().delete()
    evaluate_cycle()  # move the cursor past everything
    minute = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    from vmquota.ingest import store

    store([(pk, minute, 50.0, 100.0) for pk in vm_ids.values()])
    t = time.perf_counter()
    stats = evaluate_cycle()
    print(f"evaluation cycle: {stats['samples']:,} samples of {stats['vms']:,} VMs in "
          f"{time.perf_counter() - t:.2f} s")  # fmt: skip
    for n in args.processes:
        # the same cycle shared by n `manage.py vmquota_evaluate` processes (shards claimed with
        # SKIP LOCKED); process start-up (~1–2 s of Django import each) is inside the time
        minute = minute + timedelta(seconds=1)
        store([(pk, minute, 50.0, 100.0) for pk in vm_ids.values()])
        elapsed, shares = evaluate_in_processes(n)
        each = ", ".join(f"{s['shards']} shards {s['seconds']:.2f} s" for s in shares)
        print(f"evaluation cycle in {n} process(es): {sum(s['samples'] for s in shares):,} samples "
              f"in {elapsed:.2f} s wall (per process: {each})")  # fmt: skip
    minute2 = minute + timedelta(seconds=30)
    store([(pk, minute2, 99.0, 100.0) for pk in vm_ids.values()])
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
    t = time.perf_counter()
    stats = evaluate_cycle()
    if args.profile:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    print(f"evaluation cycle (every VM starts a streak): {stats['vms']:,} VMs in "
          f"{time.perf_counter() - t:.2f} s")  # fmt: skip
    if args.fire:
        # 30 more minutes at 99 %: in the next cycle every VM's ≥ 95 % rule fires (an alert each)
        store([(pk, minute2 + timedelta(minutes=k), 99.0, 100.0)
               for pk in vm_ids.values() for k in range(1, 31)])  # fmt: skip
        tasks.act.delay = lambda *a, **k: None  # the alerts' e-mails are not the cycle
        t = time.perf_counter()
        stats = evaluate_cycle()
        print(f"evaluation cycle (every VM fires an alert): {stats['fired']:,} incidents, "
              f"{stats['samples']:,} samples in {time.perf_counter() - t:.2f} s")  # fmt: skip


def evaluate_in_processes(n):
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import _database_url_for_children

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_SECRET_KEY": "bench",
           "DATABASE_URL": _database_url_for_children(), "VMQUOTA_HYPERVISOR_ADAPTER": "dryrun",
           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}  # fmt: skip
    root = Path(__file__).resolve().parents[1]
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "manage.py", "vmquota_evaluate"], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for _ in range(n)]  # fmt: skip
    outs = [p.communicate()[0] for p in procs]
    elapsed = time.perf_counter() - t
    return elapsed, [json.loads(o.strip().splitlines()[-1]) for o in outs]


def bench_replay(args, base):
    from vmquota import evaluation

    # 3. replay speed
    specs = evaluation.seed_rule_specs()
    samples = [
        (f"vm{v}", base + timedelta(minutes=m), 100.0 if (m // 40 + v) % 3 == 0 else 20.0, 100.0)
        for v in range(args.replay_vms) for m in range(180)
    ]  # fmt: skip
    t = time.perf_counter()
    incidents = evaluation.replay(samples, specs)
    elapsed = time.perf_counter() - t
    print(f"replay: {len(samples):,} samples ({args.replay_vms} VMs × 3 h) in {elapsed:.2f} s = "
          f"{len(samples) / elapsed:,.0f} samples/s, {len(incidents):,} incidents")  # fmt: skip


class QueryLog:
    """Counts the queries run inside the block and their time (Django's own query log is
    cleared at the start of every request, so it cannot span a test-client request)."""

    def __init__(self):
        self.sql, self.ms = [], 0.0

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - t) * 1000
            self.sql.append(sql)

    def __len__(self):
        return len(self.sql)

    def __enter__(self):
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)


def bench_small_batches(client, token, names, base, requests=200, size=100, profile=False):
    """Batches of 100 samples, one request after another (the load benchmark's small batches,
    without the concurrency): samples/s, the queries of one request, the evaluations they queue,
    and what the worker pays for them: one cycle for all of them, or a cycle per batch."""
    from django.core.cache import cache
    from django.test.utils import override_settings
    from django.utils import timezone

    from vmquota import tasks
    from vmquota.evaluation_runner import evaluate_cycle

    queued = []
    tasks.evaluate.delay = lambda *a, **k: queued.append(k)
    tasks.evaluate.apply_async = lambda *a, **k: queued.append(k)
    # the next minutes (in order for every VM, as a collector sends them; at most 5 minutes ahead)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)

    def body(r, minute=None):
        return json.dumps({"samples": [
            {"vm": names[(r * size + i) % len(names)],
             "ts": (start + timedelta(minutes=minute if minute is not None
                                      else (r * size + i) // len(names))).isoformat(),
             "cpu_percent": 20.0, "net_kbps": 300.0}
            for i in range(size)]})  # fmt: skip

    def post(text):
        r = client.post("/api/vmquota/samples", text, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
        assert r.status_code == 200 and r.json()["stored"] == size, r.content[:300]

    bodies = [body(r) for r in range(requests + 1)]
    with override_settings(VMQUOTA_TOKEN_RATE_PER_MINUTE=10**9):
        post(bodies[0])
        evaluate_cycle()
        queued.clear()
        cache.clear()  # no throttle key left from the first request
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        with QueryLog() as log:
            t = time.perf_counter()
            for text in bodies[1:]:
                post(text)
            elapsed = time.perf_counter() - t
        if profile:
            import pstats

            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        nudges = len(queued)
        t = time.perf_counter()
        evaluate_cycle()
        all_s = time.perf_counter() - t
        post(body(0, minute=3))
        t = time.perf_counter()
        evaluate_cycle()
        one_ms = (time.perf_counter() - t) * 1000
    print(f"ingest, {requests} requests of {size} samples one after another: "
          f"{requests * size / elapsed:,.0f} samples/s, {elapsed / requests * 1000:.2f} ms a "
          f"request, {len(log) / requests:.1f} queries a request; they queued {nudges} evaluation(s) in "
          f"{elapsed:.1f} s. One cycle evaluating all {requests}: {all_s * 1000:.0f} ms; a cycle "
          f"after one batch: {one_ms:.0f} ms (× {requests} = {one_ms * requests / 1000:.1f} s "
          f"of worker time when every batch queues one)")  # fmt: skip


def bench_vm_page(args, vm_ids, renders=20):
    """The VM page of one VM with 24 hours of one-minute samples (1 440), stored interleaved
    with those of `--page-vms` VMs minute by minute, as collectors fill the live table."""
    import statistics

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from tests.factories import bureau_staff
    from vmquota import selectors
    from vmquota.models import Incident, PolicyVersion, UsageSample, VirtualMachine

    UsageSample.objects.all().delete()
    ids = sorted(vm_ids.values())[: args.page_vms]
    end = timezone.now().replace(second=0, microsecond=0)
    buf = io.StringIO()
    for m in range(24 * 60, -1, -1):
        ts = (end - timedelta(minutes=m)).isoformat()
        for k, pk in enumerate(ids):
            cpu = 99.0 if (m + k) % 180 < 40 else float((m * 7 + k) % 90)
            buf.write(f"{pk}\t{ts}\t{cpu}\t{float((m * 13 + k) % 20000)}\n")
    buf.seek(0)
    with connection.cursor() as cur:
        cur.cursor.copy_expert(
            "COPY vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) FROM STDIN", buf
        )
        cur.execute("ANALYZE vmquota_usagesample")
    vm = VirtualMachine.objects.get(pk=ids[len(ids) // 2])
    VirtualMachine.objects.filter(pk=vm.pk).update(last_sample_at=end)
    rule = PolicyVersion.objects.order_by("-number").first().rules.order_by("threshold").first()
    for h in (3, 9, 15):
        streak = end - timedelta(hours=h)
        Incident.objects.get_or_create(
            vm=vm, rule=rule, streak_start=streak,
            defaults={"fired_at": streak + timedelta(minutes=30), "first_value": 99,
                      "fired_value": 99, "ended_at": streak + timedelta(minutes=40),
                      "end_reason": "recovered"},
        )  # fmt: skip
    client = Client()
    client.force_login(bureau_staff(username="bench-bureau"))
    url = f"/vmquota/vms/{vm.pk}/"

    def timed(fn, fresh):
        times = []
        for _ in range(renders):
            if fresh:
                cache.clear()
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    def get():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    for _ in range(3):
        get()  # warm-up: templates compiled, connection prepared
    with QueryLog() as page_queries:
        cache.clear()
        get()
    page_ms = timed(get, fresh=True)
    selector_ms = timed(lambda: selectors.vm_page(vm), fresh=True)
    cached_ms = timed(get, fresh=False)
    # what the text table (one <tr> per bucket, three filters each, in the template) costs: the
    # same page with the rows left out of the context
    draw = selectors.vm_charts
    selectors.vm_charts = lambda *a, **k: {**draw(*a, **k), "rows": []}
    no_table_ms = timed(get, fresh=True)
    selectors.vm_charts = draw
    charts_ms, charts_kb = chart_figures(vm, timed)
    if args.profile:
        import cProfile
        import pstats

        for what in (get, lambda: selectors.vm_page(vm)):
            prof = cProfile.Profile()
            cache.clear()
            prof.enable()
            what()
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    print(f"VM page, 24 h of one-minute samples ({len(ids)} VMs interleaved, median of "
          f"{renders}): {len(page_queries)} queries ({page_queries.ms:.1f} ms SQL in one render), "
          f"{page_ms:.1f} ms a request, vm_page() {selector_ms:.1f} ms; "
          f"with the cache warm {cached_ms:.1f} ms; without the text table {no_table_ms:.1f} ms")  # fmt: skip
    print("VM page's charts alone (median of 20): " + ", ".join(
        f"{what} {ms:.2f} ms" for what, ms in charts_ms.items()) + f"; {charts_kb:.0f} KB pickled")  # fmt: skip


def chart_figures(vm, timed):
    """The charts alone: 1 440 raw rows bucketed in Python (the page before) against the
    database's 5-minute maxima; and what reading the rendered charts from a cache costs."""
    import pickle

    from django.core.cache import caches
    from django.utils import timezone

    from vmquota.chart import bucket_maxima, buckets, vm_charts
    from vmquota.models import PolicyVersion, UsageSample

    now = timezone.now()
    start = now - timedelta(hours=24)
    rules = list(PolicyVersion.objects.order_by("-number").first().rules.all())
    incidents = list(vm.incidents.select_related("rule"))
    samples = UsageSample.objects.filter(vm=vm)

    def python():
        raw = list(samples.filter(ts__gte=start, ts__lte=now).order_by("ts")
                   .values_list("ts", "cpu_percent", "net_kbps"))  # fmt: skip
        return vm_charts(buckets(raw, start, now), start, now, rules, incidents)

    def sql():
        return vm_charts(bucket_maxima(samples, start, now), start, now, rules, incidents)

    assert python() == sql()
    charts = sql()
    rows = bucket_maxima(samples, start, now)
    raw = list(
        samples.filter(ts__gte=start, ts__lte=now).values_list("ts", "cpu_percent", "net_kbps")
    )
    out = {
        "1 440 raw rows + Python buckets + SVG": timed(python, fresh=False),
        "SQL 5-minute maxima + SVG": timed(sql, fresh=False),
        "1 440 raw rows alone": timed(
            lambda: list(
                samples.filter(ts__gte=start, ts__lte=now)
                .order_by("ts")
                .values_list("ts", "cpu_percent", "net_kbps")
            ),
            False,
        ),  # fmt: skip
        "Python buckets alone": timed(lambda: buckets(raw, start, now), False),
        "SQL 5-minute maxima alone": timed(lambda: bucket_maxima(samples, start, now), False),
        "SVG alone": timed(lambda: vm_charts(rows, start, now, rules, incidents), False),
    }
    caches["default"].set("bench-charts", charts)
    out["locmem cache get"] = timed(lambda: caches["default"].get("bench-charts"), False)
    redis_url = os.environ.get("PORTAL_TEST_REDIS_URL")
    if redis_url:
        from django.core.cache.backends.redis import RedisCache

        redis = RedisCache(redis_url, {"KEY_PREFIX": "bench-vmquota"})
        redis.set("charts", charts, 60)
        out["Redis cache get"] = timed(lambda: redis.get("charts"), False)
        redis.delete("charts")
    return out, len(pickle.dumps(charts)) / 1024


if __name__ == "__main__":
    main()
