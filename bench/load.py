"""The load benchmark: the portal under gunicorn on PostgreSQL with the generated data, driven by
wrk over loopback. Prints one Markdown table (requests/s, p50, p99, ratio to the trivial view)
and asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python -m bench.generate_load_data          # once (about 20 minutes)
    .venv/bin/python -m bench.load [--duration 10] [--rounds 5] [--connections 16]

How it is fair: every page is measured by the same server in the same run as `/ping` (a view
with no database and no template), so the ratio says what the page costs on this machine
whatever else the machine is doing. The machine is shared and its speed swings by up to half
within minutes, so each page's seconds are cut into slices, each run right after as long a slice
of `/ping`, and the page's ratio is the median of the slices' ratios; its p50 and p99 are taken
over all its slices' requests together (pages.lua writes each slice's per-mille latencies). The 16 connections act as many people (50 coordinators, 10
bureau clerks, each with their own session made directly with Django's session engine), so that
the once-a-minute session refresh (portal/security.py) costs what it costs real people. Ingest
posts batches as a collector does, in 5 slices per batch size, each compared with a raw COPY of
200 000 new rows into the same table made right after it (the median of the five ratios).
"""

import argparse
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from statistics import median
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
# Redis database 13: the tests flush database 15, and nothing else here uses 13.
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
SEARCH_TERMS = ["資安", "校園網站", "親師生平台", "研習 影片", "OpenID", "虛擬機"]
AIM_P99_MS = 200.0
AIM_RATIO = 1 / 3
AIM_INGEST_VS_COPY = 0.5


def server_env(database_url, broker_url, static_root):
    """The production settings module, with what a loopback benchmark needs."""
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "load-benchmark-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP over loopback
        "DJANGO_HSTS_SECONDS": "0",
        "DJANGO_STATIC_ROOT": str(static_root),
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "LOG_LEVEL": "WARNING",
        # One token posts here for the whole room, as fast as wrk can: the per-token limit (120 a
        # minute, for a collector per hypervisor) would answer 429 to the benchmark itself.
        "VMQUOTA_TOKEN_RATE_PER_MINUTE": "100000000",
    }


# --- wrk -----------------------------------------------------------------------------------


def _ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    total = re.search(r"(\d+) requests in", text)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if not (rps and p50 and p99):
        raise RuntimeError(f"wrk 的輸出無法解讀：\n{text}")
    return {
        "rps": float(rps.group(1)),
        "p50": _ms(p50.group(1)),
        "p99": _ms(p99.group(1)),
        "requests": int(total.group(1)) if total else 0,
        "errors": (int(bad.group(1)) if bad else 0)
        + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0),
    }


def run_wrk(url, script, script_args, *, duration, connections, threads, quantiles=None):
    """One wrk run; with `quantiles` (a file), pages.lua writes the run's per-mille latencies
    there and they come back as figures["quantiles_ms"]."""
    command = [
        "wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
        "-s", str(script), url, "--", *script_args,
    ]  # fmt: skip
    env = {**os.environ, "WRK_QUANTILES": str(quantiles)} if quantiles else None
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
    figures = parse_wrk(done.stdout)
    if quantiles:
        figures["quantiles_ms"] = [float(v) / 1000 for v in Path(quantiles).read_text().split()]
    return figures


def merged_percentile(runs, percent):
    """The latency (ms) under which `percent` of all the runs' requests were answered: each run's
    per-mille latencies stand for a thousandth of its requests each."""
    points = sorted(
        (value, run["requests"] / len(run["quantiles_ms"]))
        for run in runs
        for value in run["quantiles_ms"]
    )
    target = sum(weight for _, weight in points) * percent / 100
    reached = 0.0
    for value, weight in points:
        reached += weight
        if reached >= target:
            return value
    return points[-1][0]


def paired_rows(measure, ping, page, rounds, seconds):
    """`rounds` alternations of a /ping slice and a page slice, `seconds` each: the page's
    slices of /ping, the page's figures over all its slices, and its ratio to /ping as the median of each slice's ratio to
    the /ping slice just before it. Measured this way, the minutes-long swings of a shared
    machine fall on both sides of each ratio alike."""
    pings, pages = [], []
    for _ in range(rounds):
        pings.append(measure(ping, seconds))
        pages.append(measure(page, seconds))
    return (
        pings,
        combined(pages),
        median(p["rps"] / q["rps"] for p, q in zip(pages, pings, strict=True)),
    )


def combined(runs):
    requests = sum(r["requests"] for r in runs)
    return {
        "rps": sum(r["rps"] for r in runs) / len(runs),
        "p50": merged_percentile(runs, 50),
        "p99": merged_percentile(runs, 99),
        "requests": requests,
        "errors": sum(r["errors"] for r in runs),
        "slices": [round(r["rps"]) for r in runs],
    }


# --- the server ----------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env, port, workers, cwd=ROOT):
    """gunicorn serving the code in `cwd` (this checkout, or a worktree of another commit)."""
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not answer /ping within 60 s")


def stop(process):
    process.terminate()  # gunicorn's master stops its own workers on SIGTERM
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def fetch_status(url, cookie):
    request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept-Language": "zh-TW"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 – loopback only
            return r.status, len(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0


# --- the people and the pages --------------------------------------------------------------


def session_cookie(user):
    """A logged-in session made with Django's session engine, as login() would leave it, and a
    CSRF cookie; returns (the Cookie header's value, the session key)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import _get_new_csrf_string

    from portal.security import SESSION_SEEN, SESSION_STARTED
    from portal.sessions import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_STARTED] = session[SESSION_SEEN] = int(time.time())
    session.set_expiry(4 * 60 * 60)
    session.create()
    # and the CSRF cookie a browser keeps from its first page: without it every page would make
    # a new CSRF secret and send it back as a Set-Cookie, which no returning visitor costs
    csrf = f"{settings.CSRF_COOKIE_NAME}={_get_new_csrf_string()}"
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {csrf}", session.session_key


def prepare(workdir):
    """Sessions, a collector token and the request lists; returns (targets, cleanup data)."""
    from django.contrib.auth import get_user_model

    from bench import generate_load_data as gen
    from meetings.models import Meeting
    from portal.models import Membership, Role
    from signups.models import Survey
    from vmquota.models import CollectorToken, Hypervisor, VirtualMachine

    User = get_user_model()
    sessions = []
    coordinators = []  # (cookie, a VM of the coordinator's school)
    memberships = (
        Membership.objects.filter(
            role=Role.COORDINATOR,
            user__username__startswith=f"{gen.USER_PREFIX}coordinator",
            school__vms__isnull=False,
        )
        .select_related("user")
        .order_by("user__username")
        .distinct()
    )
    for m in memberships[:50]:
        cookie, key = session_cookie(m.user)
        sessions.append(key)
        vm = VirtualMachine.objects.filter(school_id=m.school_id).order_by("pk").first()
        coordinators.append((cookie, vm.pk))
    bureau = []
    for user in User.objects.filter(username__startswith=f"{gen.USER_PREFIX}bureau").order_by(
        "username"
    )[:10]:
        cookie, key = session_cookie(user)
        sessions.append(key)
        bureau.append(cookie)
    meetings = list(
        Meeting.objects.filter(series__name=gen.SERIES_NAME, status="published")
        .order_by("-held_on")
        .values_list("pk", flat=True)[:24]
    )
    survey = Survey.objects.get(title=gen.SURVEY_TITLE)
    token, raw = CollectorToken.issue(name="load benchmark", hypervisors=Hypervisor.objects.all())
    names = list(
        VirtualMachine.objects.filter(hypervisor__name=gen.HYPERVISOR_NAME)
        .order_by("pk")
        .values_list("name", flat=True)
    )
    (workdir / "vm_names.txt").write_text("\n".join(names) + "\n", encoding="utf-8")

    cc = [c for c, _ in coordinators]
    grid = f"/signups/{survey.pk}/grid/"
    targets = [
        ("trivial view", "/ping", [("/ping", "")]),
        # the same view for a logged-in person: what the session machinery costs each request
        ("trivial view, logged in", "/ping", [("/ping", c) for c in cc]),
        ("home page", "/", [("/", c) for c in cc]),
        ("minutes list", "/meetings/", [("/meetings/", c) for c in cc]),
        ("meeting page", "/meetings/<id>/",
         [(f"/meetings/{meetings[i % len(meetings)]}/", c) for i, c in enumerate(cc)]),
        ("search", "/meetings/search/?q=…",
         [(f"/meetings/search/?q={quote(SEARCH_TERMS[i % len(SEARCH_TERMS)])}", c)
          for i, c in enumerate(cc)]),
        ("tracked-item list", "/tracking/", [("/tracking/", c) for c in cc]),
        ("survey grid (bureau)", grid, [(grid, c) for c in bureau]),
        ("VM page with chart", "/vmquota/vms/<id>/",
         [(f"/vmquota/vms/{vm}/", c) for c, vm in coordinators]),
    ]  # fmt: skip
    for n, (_, _, pairs) in enumerate(targets):
        path = workdir / f"requests-{n}.tsv"
        path.write_text("".join(f"{p}\t{c}\n" for p, c in pairs), encoding="utf-8")
    return targets, {"sessions": sessions, "token": token, "raw_token": raw, "vms": len(names)}


# --- ingest compared with COPY ----------------------------------------------------------------


def vacuum_if_earlier_runs_left_dead_rows(limit=1_000_000):
    """Each run deletes the samples it ingested. Until autovacuum comes (at 20 % of 100 M rows),
    those dead rows stay in the heap and the unique index, where the next run's ingest (unique
    checks) and VM pages (index scans) would meet them: 15 M had piled up after a day's runs
    here. So vacuum first when earlier runs left more than `limit` (about a minute here)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'vmquota_usagesample'"
        )
        dead = (cursor.fetchone() or [0])[0]
        if dead > limit:
            print(f"  VACUUM vmquota_usagesample: {dead:,} dead rows from earlier runs",
                  file=sys.stderr, flush=True)  # fmt: skip
            cursor.execute("VACUUM (ANALYZE) vmquota_usagesample")


def max_sample_id():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM vmquota_usagesample")
        return cursor.fetchone()[0]


def copy_rate(rows=200_000):
    """Samples/s of a raw COPY of `rows` new samples into the same table (same indexes, same
    foreign key), committed; the rows are deleted afterwards."""
    from django.db import connection, transaction

    from bench import generate_load_data as gen
    from vmquota.models import VirtualMachine

    ids = list(
        VirtualMachine.objects.filter(hypervisor__name=gen.HYPERVISOR_NAME).values_list(
            "pk", flat=True
        )
    )
    base = int(time.time()) - 120
    buffer = io.StringIO()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base))
    for n in range(rows):
        # a fraction of a second: never on the generated samples' whole minutes
        buffer.write(f"{ids[n % len(ids)]},{stamp}.{n // len(ids) + 1:06d}+00:00,12.5,300\n")
    before = max_sample_id()
    buffer.seek(0)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) FROM STDIN WITH (FORMAT csv)",
            buffer,
        )
    elapsed = time.perf_counter() - started
    delete_samples_after(before)
    return rows / elapsed


def delete_samples_after(sample_id):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM vmquota_usagesample WHERE id > %s", [sample_id])
        return cursor.rowcount


def profile(targets, runs=20):
    """Each page in this process, one request at a time: queries, SQL time and total time
    (medians), to tell database time from Python time."""
    from statistics import median

    from django.db import connection
    from django.test import Client

    rows = []
    for label, _, pairs in targets:
        path, cookie = pairs[0]
        client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="zh-TW")
        for pair in filter(None, cookie.split("; ")):
            name, _, value = pair.partition("=")
            client.cookies[name] = value
        client.get(path)
        totals, sqls, counts = [], [], []
        for _ in range(runs):
            timer = _SqlTimer()
            started = time.perf_counter()
            with connection.execute_wrapper(timer):
                client.get(path)
            totals.append((time.perf_counter() - started) * 1000)
            sqls.append(timer.seconds * 1000)
            counts.append(timer.count)
        rows.append((label, max(counts), median(sqls), median(totals)))
    return rows


class _SqlTimer:
    def __init__(self):
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def cleanup(extra, first_sample_id, broker_url):
    from portal.models import UserSession as Session

    Session.objects.filter(session_key__in=extra["sessions"]).delete()
    extra["token"].delete()
    removed = delete_samples_after(first_sample_id)
    try:  # the evaluations that ingest queued: nobody consumes database 13
        import redis

        client = redis.Redis.from_url(broker_url)
        client.delete("celery", *client.keys("_kombu.binding*"))
    except Exception as exc:  # noqa: BLE001 – the broker is optional for the figures
        print(f"(could not clear the bench queue: {exc})", file=sys.stderr)
    return removed


# --- the run -------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per page")
    parser.add_argument(
        "--rounds", type=int, default=5,
        help="each page's seconds are split into this many slices, each after a /ping slice",
    )  # fmt: skip
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (as compose)")
    parser.add_argument(
        "--batches", default="100,500,2000",
        help="samples per ingest request, comma-separated: a small host, a large one, the whole room",
    )  # fmt: skip
    parser.add_argument(
        "--only", choices=("pages", "ingest"),
        help="measure only the pages or only ingest (the trivial views are always measured)",
    )  # fmt: skip
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--broker-url", default=DEFAULT_BROKER_URL)
    args = parser.parse_args(argv)
    database_url = args.database_url or DEFAULT_DATABASE_URL
    if shutil.which("wrk") is None:
        sys.exit("找不到 wrk：請先執行 apt-get install -y wrk")
    static_root = ROOT / "var" / "bench" / "static"
    env = server_env(database_url, args.broker_url, static_root)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import generate_load_data as gen
    from vmquota.models import Hypervisor

    if connection.vendor != "postgresql":
        sys.exit("負載測試需要 PostgreSQL（--database-url postgres://…）")
    if not Hypervisor.objects.filter(name=gen.HYPERVISOR_NAME).exists():
        sys.exit(
            f"{database_url} 沒有負載資料：請先執行 DATABASE_URL={database_url} "
            ".venv/bin/python -m bench.generate_load_data"
        )
    call_command("migrate", interactive=False, verbosity=0)  # the apps keep adding columns
    call_command("collectstatic", interactive=False, verbosity=0)
    sizes = gen.counts()
    vacuum_if_earlier_runs_left_dead_rows()
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    first_sample_id = max_sample_id()
    targets, extra = prepare(workdir)
    if args.only == "ingest":
        targets = [t for t in targets if t[1] == "/ping"]
    batches = [] if args.only == "pages" else [int(b) for b in args.batches.split(",")]
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_gunicorn(env, port, args.workers)
    results = []
    slice_s = max(1, args.duration // args.rounds)

    def measure(n, seconds):
        return run_wrk(
            base_url, BENCH_DIR / "pages.lua", [str(workdir / f"requests-{n}.tsv")],
            duration=seconds, connections=args.connections, threads=args.threads,
            quantiles=workdir / "quantiles.txt",
        )  # fmt: skip

    try:
        pings = []
        for n, (label, shown, pairs) in enumerate(targets):
            status, size = fetch_status(base_url + pairs[0][0], pairs[0][1])
            if status != 200:
                raise RuntimeError(f"{label}: {pairs[0][0]} answered {status}, not 200")
            # a short warm-up: each worker imports and compiles templates on first use
            measure(n, 2)
            if n == 0:
                results.append({"label": label, "path": shown, "bytes": size})
                continue
            ping_runs, figures, ratio = paired_rows(measure, 0, n, args.rounds, slice_s)
            pings.extend(ping_runs)
            results.append({"label": label, "path": shown, "bytes": size, "ratio": ratio,
                            **figures})  # fmt: skip
            print(f"  {label:<22} {figures['rps']:>8.1f} req/s  p50 {figures['p50']:.1f} ms  "
                  f"p99 {figures['p99']:.1f} ms  ratio {ratio:.2f} (slices {figures['slices']}, "
                  f"/ping {[round(r['rps']) for r in ping_runs]})", file=sys.stderr, flush=True)  # fmt: skip
        # the trivial view's row: all its slices, taken beside every page (or alone)
        results[0].update(combined(pings or [measure(0, args.duration)]))
        ingests, copies = [], []
        # five slices, each followed by a COPY of 200 000 rows (2–3 s): one slice's ratio moved
        # from 0.46 to 0.69 within a run (checkpoints, the COPY itself), so a median of three
        # could land anywhere in that
        ingest_rounds = 5
        ingest_slice_s = max(1, args.duration // 3)
        for batch in batches:
            ingest_args = [str(workdir / "vm_names.txt"), extra["raw_token"], str(batch)]
            run_wrk(base_url, BENCH_DIR / "ingest.lua", [*ingest_args, str(int(time.time()) - 300)],
                    duration=2, connections=args.connections, threads=args.threads)  # fmt: skip
            slices, ratios = [], []
            for _ in range(ingest_rounds):
                time.sleep(1)  # each slice's timestamps start at another second
                figures = run_wrk(
                    base_url, BENCH_DIR / "ingest.lua", [*ingest_args, str(int(time.time()) - 240)],
                    duration=ingest_slice_s, connections=args.connections,
                    threads=args.threads, quantiles=workdir / "quantiles.txt",
                )  # fmt: skip
                copies.append(copy_rate())
                slices.append(figures)
                ratios.append(figures["rps"] * batch / copies[-1])
            ingests.append({"batch": batch, "vs_copy": median(ratios), **combined(slices)})
            print(f"  ingest {batch:>5} a request  {ingests[-1]['rps']:>6.1f} req/s  "
                  f"{ingests[-1]['vs_copy']:.2f} of COPY (slices {[round(r, 2) for r in ratios]})",
                  file=sys.stderr, flush=True)  # fmt: skip
        stop(server)
        server = None
        timings = profile(targets)
    finally:
        if server is not None:
            stop(server)
        removed = cleanup(extra, first_sample_id, args.broker_url)
        shutil.rmtree(workdir, ignore_errors=True)
    # the reference moves by a fifth between runs minutes apart (checkpoints, the page cache, the
    # machine): each ingest slice is compared with the COPY right after it, the median kept
    report(results, ingests, sorted(copies) or [0], args, sizes, removed, timings)


def report(results, ingests, copies, args, sizes, ingested_rows, timings):
    copy = copies[len(copies) // 2]
    print()
    print(f"Load benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}: gunicorn {args.workers} sync "
          f"workers, wrk {args.threads} threads × {args.connections} connections over "
          f"127.0.0.1; each page {args.rounds} × {max(1, args.duration // args.rounds)} s, each "
          "slice after as long a slice of /ping, its ratio the median of the slices' ratios; "
          f"PostgreSQL 15, {os.cpu_count()} cores shared by server, database and load tool.")  # fmt: skip
    print("Data: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sizes.items()))
    print()
    # Pages are for logged-in people, so each is also compared with the trivial view as a
    # logged-in person gets it (session and user read): what the page adds to that floor.
    # (both ratios are to the /ping slices beside them, so their quotient compares like with like)
    logged_in = next((r["ratio"] for r in results if r["label"].endswith("logged in")), 0)
    print("| page | path | req/s | p50 ms | p99 ms | ratio to /ping | ratio to logged-in /ping "
          "| errors | aims met (p99, ratio to /ping) |")  # fmt: skip
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        ratio = r.get("ratio", 1.0)
        ratio_in = f"{ratio / logged_in:.2f}" if logged_in and r is not results[0] else "–"
        aims = "–" if r is results[0] else _aims(r["p99"] < AIM_P99_MS, ratio >= AIM_RATIO)
        print(f"| {r['label']} | `{r['path']}` | {r['rps']:,.0f} | {r['p50']:.1f} | "
              f"{r['p99']:.1f} | {ratio:.2f} | {ratio_in} | {r['errors']} | {aims} |")  # fmt: skip
    for ingest in ingests:
        samples_per_s = ingest["rps"] * ingest["batch"]
        vs_copy = ingest["vs_copy"]
        print(f"| sample ingest ({ingest['batch']} a request) | `POST /api/vmquota/samples` | "
              f"{ingest['rps']:,.0f} ({samples_per_s:,.0f} samples/s) | {ingest['p50']:.1f} | "
              f"{ingest['p99']:.1f} | {vs_copy:.2f} of COPY | | {ingest['errors']} | "
              f"{_aims(vs_copy >= AIM_INGEST_VS_COPY)} (≥ {AIM_INGEST_VS_COPY} of COPY) |")  # fmt: skip
    if ingests:
        print(f"| raw COPY, same table (each ingest slice's ratio is to the COPY after it; "
              f"median of {len(copies)}: {copies[0]:,.0f}–"
              f"{copies[-1]:,.0f}) | `COPY … FROM STDIN` | {copy:,.0f} samples/s | | | "
              "1.00 | | | |")  # fmt: skip
    print()
    print(f"Aims: every page's p99 < {AIM_P99_MS:.0f} ms and req/s ≥ 1/3 of /ping's; ingest ≥ "
          f"{AIM_INGEST_VS_COPY} of COPY's samples/s (its p99 is shown, the p99 aim is for pages). "
          f"{ingested_rows:,} ingested samples were deleted afterwards.")  # fmt: skip
    print()
    print("One request at a time, in-process (medians of 20, cached fragments warm as under load): "
          "where the time goes.")  # fmt: skip
    print()
    print("| page | queries | SQL ms | total ms | other (Python, templates) ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, count, sql, total in timings:
        print(f"| {label} | {count} | {sql:.1f} | {total:.1f} | {total - sql:.1f} |")


def _aims(*checks):
    return "yes" if all(checks) else "**no**"


if __name__ == "__main__":
    main()
