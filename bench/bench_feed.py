"""The 100 000-VM feed: ~1 667 samples/s through the API, and the evaluation lag per minute.

    .venv/bin/python -m bench.bench_feed [--minutes 10] [--workers 1,2] [--vms 100000]
        [--per-host 500] [--speed 1] [--database-url postgres://…/portal_feed_bench]
        [--redis-url redis://127.0.0.1:6379/11]

A throw-away PostgreSQL database (its name must contain "bench"; dropped and made again, migrated,
dropped at the end) gets --vms VMs on generated hypervisors of --per-host VMs each, one collector
token per hypervisor scoped to it (the hypervisors are disabled, so the beat's libvirt polling
finds nothing: the generated collectors stand in for it), and the seed policy. Real gunicorn
(portal.wsgi, 2 sync workers, the production settings with the per-token rate limit lifted as
bench/load.py does) and, for each --workers N, a real Celery worker (`--concurrency N`) and
`celery beat` as production runs them: the beat's `vmquota.evaluate` every interval and the
5-second nudge after ingest. Redis is one database of its own, flushed before and after.

The collectors (one process, a pool of threads) send, every real minute, every VM's sample of
that minute: one request per hypervisor (its VMs' samples, one time stamp per host), the
hypervisors' requests spread evenly over the minute as independent collectors polling at their
own phase would. 1 % of the VMs run at CPU 97 (an open streak of the 95 % alert rule), 0.5 % at
24 000 KB/s (the network alert rule), 1 % are hot every other minute (streaks that start and
end). Sample times advance one minute per real minute; `--speed S` sends S minutes of samples per
real minute (S × the rate, times starting in the past; the output says so; once the
times lag real time by more than max_gap + the no-data grace, 7 minutes, the evaluator closes
the hot VMs' streaks for no data, another workload).

Evaluation lag, the figure: for each request, from its answer (the samples committed) to the
first moment every shard's EvaluationCursor has passed the request's newest sample id (polled
every 0.5 s; the ids are read back from the table once the minute is in). Per minute: p50 and max
over that minute's requests, beside the limit, one evaluation interval (the beat schedule's
`vmquota-evaluate`). Prints figures, asserts nothing; every process it starts is stopped at the
end, also on Ctrl-C.
"""

import argparse
import bisect
import json
import multiprocessing
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
AIM_RATE = 100_000 / 60  # samples a second at 100 000 VMs, one sample a minute each
POLL_S = 0.5
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_feed_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"  # the tests flush 15, bench/load.py uses 12–13


# --- the plan (pure: tests/bench/test_feed_plan.py) -------------------------------------------


def send_plan(hosts, speed=1):
    """One real minute's requests, in order: [(seconds into the minute, sample minute within the
    real minute, host)], spread evenly so that the room's rate is flat over the minute."""
    total = hosts * speed
    return [(j * 60 / total, j // hosts, j % hosts) for j in range(total)]


def sample_values(vm_index, minute, rng):
    """(cpu_percent, net_kbps) of one VM's sample: most idle to busy, some hot (see the module)."""
    cpu, net = 5 + 55 * rng.random(), 50 + 2000 * rng.random()
    if vm_index % 100 == 0 or (vm_index % 100 == 1 and minute % 2 == 0):
        cpu = 97.0
    if vm_index % 200 == 2:
        net = 24_000.0
    return round(cpu, 2), round(net, 1)


def evaluated_at(poll_times, poll_positions, sample_id):
    """The first poll time at which the evaluation had passed sample_id (positions never go
    back), or None."""
    i = bisect.bisect_left(poll_positions, sample_id)
    return poll_times[i] if i < len(poll_times) else None


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- processes ----------------------------------------------------------------------------------


class Processes:
    """Everything started here, each in its own session; stopped in reverse order."""

    def __init__(self):
        self.started = []

    def start(self, command, env, log):
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.started.append(process)
        return process

    def stop(self, process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process in self.started:
            self.started.remove(process)

    def stop_all(self):
        for process in reversed(list(self.started)):
            self.stop(process)


def tree_cpu(pid):
    """CPU seconds of a process and every process under it (from /proc)."""
    from bench import cpu_seconds

    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, ValueError):
                continue
    family, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in family:
                family.add(child)
                todo.append(child)
    return sum(cpu_seconds(p) or 0 for p in family)


def machine_busy():
    """(busy, total) jiffies of the whole machine so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


# --- the collectors --------------------------------------------------------------------------


def collectors(base_url, tokens, per_host, t0, base_ts, minutes, speed, out, stop):
    """The generated collectors: every real minute, the plan's requests at their times, each on
    a thread of a pool; one record per request on `out`."""
    plan = send_plan(len(tokens), speed)
    rng = random.Random(7)

    def send(r, m, h):
        ts = (base_ts + timedelta(minutes=m, seconds=h * 60 // len(tokens))).isoformat()
        samples = []
        for i in range(h * per_host, (h + 1) * per_host):
            cpu, net = sample_values(i, m, rng)
            samples.append({"vm": f"feed-vm{i:06d}", "ts": ts, "cpu_percent": cpu,
                            "net_kbps": net})  # fmt: skip
        body = json.dumps({"samples": samples}).encode()
        request = urllib.request.Request(
            f"{base_url}/api/vmquota/samples", data=body, method="POST",
            headers={"Authorization": f"Bearer {tokens[h]}", "Content-Type": "application/json"},
        )  # fmt: skip
        sent, stored, error = time.time(), 0, ""
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                stored = json.loads(answer.read())["stored"]
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
        except OSError as exc:
            error = type(exc).__name__
        out.put({"r": r, "m": m, "h": h, "sent": sent, "at": time.time(), "samples": per_host,
                 "stored": stored, "error": error})  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        for r in range(minutes):
            for offset, k, h in plan:
                delay = t0 + 60 * r + offset - time.time()
                if stop.wait(max(delay, 0)):
                    return
                pool.submit(send, r, r * speed + k, h)


# --- the database ----------------------------------------------------------------------------


def admin_sql(database_url, *statements):
    import psycopg2

    admin = psycopg2.connect(urlunsplit(urlsplit(database_url)._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        admin.close()


def build(args, env, log):
    name = urlsplit(args.database_url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"{name}：資料庫名稱須含 bench（此測試會刪除並重建它）")
    admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
              f'CREATE DATABASE "{name}"')  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, stdout=log, stderr=log)  # fmt: skip
    import django

    django.setup()
    from django.utils import timezone

    from portal.models import District, School
    from tests.vmquota.factories import seed_policy
    from vmquota.models import CollectorToken, Hypervisor, VirtualMachine

    hosts = args.vms // args.per_host
    district = District.objects.create(name="feed", position=1)
    school = School.objects.create(name="feed", code="F00001", district=district)
    hvs = Hypervisor.objects.bulk_create(
        [Hypervisor(name=f"feed-hv{h:03d}", uri="dryrun://feed", enabled=False)
         for h in range(hosts)]
    )  # fmt: skip
    vms = VirtualMachine.objects.bulk_create(
        [VirtualMachine(hypervisor=hvs[i // args.per_host], name=f"feed-vm{i:06d}",
                        uuid=f"00000000-0000-4000-8000-{i:012d}", school=school, state="running")
         for i in range(hosts * args.per_host)], batch_size=5000,
    )  # fmt: skip
    first = vms[0].pk
    if vms[-1].pk - first != len(vms) - 1:
        raise RuntimeError("VM ids are not contiguous; the read-back of request ids needs them")
    tokens = [CollectorToken.issue(name=f"feed {h}", hypervisors=[hv])[1]
              for h, hv in enumerate(hvs)]  # fmt: skip
    seed_policy(effective_from=timezone.now() - timedelta(days=2))
    return tokens, first


def reset(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE vmquota_usagesample, vmquota_samplerollup, vmquota_streakstate, "
            "vmquota_evaluationcursor, vmquota_action, vmquota_incident RESTART IDENTITY CASCADE"
        )
        cursor.execute("UPDATE vmquota_virtualmachine SET last_sample_at = NULL, "
                       "closed_through = NULL, streaks_reset_at = NULL")  # fmt: skip


# --- one run ---------------------------------------------------------------------------------


def interval_seconds():
    from django.conf import settings

    schedule = settings.CELERY_BEAT_SCHEDULE["vmquota-evaluate"]["schedule"]
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if hasattr(schedule, "run_every"):
        return schedule.run_every.total_seconds()
    return float(schedule)


def run(workers, args, env, tokens, first_vm, base_url, procs, log, conn):
    import redis

    reset(conn)
    redis.Redis.from_url(args.redis_url).flushdb()
    celery = str(ROOT / ".venv" / "bin" / "celery")
    workdir = Path(tempfile.mkdtemp(prefix="feed-beat-"))
    worker = procs.start([celery, "-A", "portal", "worker", "--concurrency", str(workers),
                          "--queues", "celery", "--loglevel", "WARNING", "-n",
                          f"feed{workers}@%h"], env, log)  # fmt: skip
    beat = procs.start([celery, "-A", "portal", "beat", "--loglevel", "WARNING",
                        "--schedule", str(workdir / "beat")], env, log)  # fmt: skip
    time.sleep(8)  # the worker's pool forks and connects
    interval = interval_seconds()
    hosts = len(tokens)
    t0 = time.time() + 2
    base_ts = datetime.fromtimestamp(t0, UTC).replace(second=0, microsecond=0) - timedelta(
        minutes=(args.speed - 1) * args.minutes
    )
    out, stop = multiprocessing.Queue(), multiprocessing.Event()
    feeder = multiprocessing.get_context("fork").Process(
        target=collectors,
        args=(base_url, tokens, args.per_host, t0, base_ts, args.minutes, args.speed, out, stop),
        daemon=True,
    )
    feeder.start()
    cpu0 = {"worker": tree_cpu(worker.pid), "web": tree_cpu(procs.started[0].pid)}
    busy0, load = machine_busy(), []
    poll_t, poll_e, records, ids = [], [], [], {}
    per_minute = hosts * args.speed
    printed, minute_cpu = set(), [dict(cpu0)]
    print(f"\n{workers} worker process(es): {args.minutes} min × {hosts * args.speed} requests of "
          f"{args.per_host} samples{f' (speed {args.speed}: {args.speed} sample minutes a real minute)' if args.speed > 1 else ''}; "
          f"limit: lag < {interval:.0f} s (vmquota-evaluate's interval)", flush=True)  # fmt: skip
    end = t0 + 60 * args.minutes
    deadline = None
    try:
        while True:
            now = time.time()
            with conn.cursor() as cursor:
                cursor.execute("SELECT COUNT(*), COALESCE(MIN(last_sample_id), 0) "
                               "FROM vmquota_evaluationcursor")  # fmt: skip
                count, position = cursor.fetchone()
            poll_t.append(now)
            poll_e.append(position if count >= 16 else 0)
            poll_e[-1] = max(poll_e[-1], poll_e[-2] if len(poll_e) > 1 else 0)
            while True:
                try:
                    records.append(out.get_nowait())
                except queue.Empty:
                    break
            for r in range(args.minutes):
                mine = [x for x in records if x["r"] == r]
                if r in ids or len(mine) < per_minute:
                    continue
                lo = base_ts + timedelta(minutes=r * args.speed)
                with conn.cursor() as cursor:
                    cursor.execute(
                        "SELECT EXTRACT(EPOCH FROM date_trunc('minute', ts) - %s) / 60, "
                        "(vm_id - %s) / %s, MAX(id) FROM vmquota_usagesample "
                        "WHERE ts >= %s AND ts < %s GROUP BY 1, 2",
                        [base_ts, first_vm, args.per_host, lo,
                         lo + timedelta(minutes=args.speed)],
                    )  # fmt: skip
                    ids[r] = {(int(m), int(h)): i for m, h, i in cursor.fetchall()}
                minute_cpu.append({"worker": tree_cpu(worker.pid),
                                   "web": tree_cpu(procs.started[0].pid)})  # fmt: skip
                load.append(os.getloadavg()[0])
            for r in range(args.minutes):
                if r in printed or r not in ids:
                    continue
                lags, pending = minute_lags(r, records, ids, poll_t, poll_e, now)
                if pending and now < t0 + 60 * (r + 2) and now < (deadline or now + 1):
                    continue
                printed.add(r)
                print_minute(r, args, records, lags, pending, interval, minute_cpu, load)
            if now >= end and len(records) == per_minute * args.minutes and deadline is None:
                deadline = now + 2 * interval
            if len(printed) == args.minutes or (deadline and now > deadline):
                break
            if (
                not feeder.is_alive()
                and len(records) < per_minute * args.minutes
                and now > end + 180
            ):
                print("  (the collectors stopped early)")
                break
            time.sleep(POLL_S)
    finally:
        stop.set()
        feeder.join(10)
        if feeder.is_alive():
            feeder.terminate()
        procs.stop(beat)
        procs.stop(worker)
    busy1 = machine_busy()
    all_lags, all_pending = [], 0
    for r in range(args.minutes):
        lags, pending = minute_lags(r, records, ids, poll_t, poll_e, time.time())
        all_lags += lags
        all_pending += pending
    accepted = sum(x["stored"] for x in records)
    span = max((x["at"] for x in records), default=t0) - t0
    return {
        "workers": workers, "minutes": args.minutes, "rate": accepted / span if span else 0,
        "aim": AIM_RATE * args.vms / 100_000 * args.speed,
        "max_lag": max(all_lags, default=None), "pending": all_pending,
        "failed": sum(1 for x in records if x["error"]), "interval": interval,
        "busy": (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1),
        "load": max(load, default=os.getloadavg()[0]),
        "worker_cpu": minute_cpu[-1]["worker"] - cpu0["worker"],
    }  # fmt: skip


def minute_lags(r, records, ids, poll_t, poll_e, now):
    """([lag of each evaluated request of real minute r], how many are not evaluated yet)."""
    lags, pending = [], 0
    for x in records:
        if x["r"] != r or x["error"] or not x["stored"]:
            continue
        sample_id = ids.get(r, {}).get((x["m"], x["h"]))
        done = evaluated_at(poll_t, poll_e, sample_id) if sample_id is not None else None
        if done is None:
            pending += 1
        else:
            lags.append(max(done - x["at"], 0.0))
    return lags, pending


def print_minute(r, args, records, lags, pending, interval, minute_cpu, load):
    mine = [x for x in records if x["r"] == r]
    sent, accepted = sum(x["samples"] for x in mine), sum(x["stored"] for x in mine)
    failed = sum(1 for x in mine if x["error"])
    if lags:
        lag = f"lag p50 {percentile(lags, 50):5.1f} s, max {max(lags):5.1f} s"
    else:
        lag = "lag –"
    if pending:
        lag += f", {pending} requests not evaluated yet"
    cpu = ""
    if len(minute_cpu) > r + 1:
        a, b = minute_cpu[r], minute_cpu[r + 1]
        cpu = f"; CPU s worker {b['worker'] - a['worker']:.1f}, web {b['web'] - a['web']:.1f}"
    print(f"  minute {r + 1:>2}/{args.minutes}: sent {sent:,}, accepted {accepted:,}, "
          f"failed requests {failed}; {lag} (limit {interval:.0f} s){cpu}; "
          f"load {load[r] if r < len(load) else os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip


# --- main --------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--workers", default="1,2", help="Celery worker processes, one run each")
    parser.add_argument("--vms", type=int, default=100_000)
    parser.add_argument("--per-host", type=int, default=500, help="VMs a hypervisor (a request)")
    parser.add_argument("--speed", type=int, default=1, help="sample minutes a real minute")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_FEED_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    from bench.load import free_port, server_env

    env = {**server_env(args.database_url, args.redis_url, ROOT / "var" / "bench" / "static"),
           "EMAIL_URL": "dummymail://"}  # fmt: skip
    os.environ.update(env)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    procs = Processes()
    log = open(Path(tempfile.gettempdir()) / f"bench_feed_{os.getpid()}.log", "w")  # noqa: SIM115
    results = []
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    try:
        tokens, first_vm = build(args, env, log)
        from django.db import connection

        port = free_port()
        procs.start([str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application",
                     "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
                    env, log)  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base_url}/ping", timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        print(f"100 000-VM feed, {started}: {len(tokens) * args.per_host:,} VMs on {len(tokens)} "
              f"hypervisors, one request of {args.per_host} a hypervisor a minute; gunicorn 2 "
              f"workers; PostgreSQL; {os.cpu_count()} cores shared by all of it (log: {log.name})",
              flush=True)  # fmt: skip
        for workers in [int(w) for w in args.workers.split(",")]:
            results.append(run(workers, args, env, tokens, first_vm, base_url, procs, log,
                               connection))  # fmt: skip
    except KeyboardInterrupt:
        print("\n(interrupted: stopping everything)", flush=True)
    finally:
        procs.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 – Django may not be set up yet
            pass
        try:
            import redis

            redis.Redis.from_url(args.redis_url).flushdb()
        except Exception as exc:  # noqa: BLE001
            print(f"(could not flush {args.redis_url}: {exc})")
        if not args.keep:
            name = urlsplit(args.database_url).path.lstrip("/")
            admin_sql(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log.close()
    report(results)


def report(results):
    if not results:
        return
    print(
        "\n| workers | minutes | samples/s achieved | aim | max lag s | limit s | machine "
        "CPU busy | load (max 1-min) | worker CPU s | met |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for x in results:
        lag = "–" if x["max_lag"] is None else f"{x['max_lag']:.1f}"
        if x["pending"]:
            lag += f" ({x['pending']} requests never evaluated)"
        met = (x["max_lag"] is not None and x["max_lag"] < x["interval"] and not x["pending"]
               and not x["failed"] and x["rate"] >= 0.98 * x["aim"])  # fmt: skip
        print(f"| {x['workers']} | {x['minutes']} | {x['rate']:,.0f} | {x['aim']:,.0f} | {lag} | "
              f"{x['interval']:.0f} | {x['busy']:.0%} | {x['load']:.1f} | {x['worker_cpu']:.0f} | "
              f"{'yes' if met else '**no**'} |")  # fmt: skip
    print(f"\nMet: every request accepted, ≥ 98 % of the aimed rate, every request evaluated "
          f"within one interval. Load average at the end: "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}.")  # fmt: skip


if __name__ == "__main__":
    main()
