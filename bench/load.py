"""The load benchmark: the portal under gunicorn on PostgreSQL with the generated data, driven by
wrk over loopback. Prints one Markdown table (requests/s, p50, p99, ratio to the trivial view)
and asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python -m bench.generate_load_data          # once (about 20 minutes)
    .venv/bin/python -m bench.load [--duration 10] [--rounds 5] [--connections 16] [--before REF]

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

`--before REF` measures a `git worktree` of another commit beside this checkout in the same run,
slice for slice (each tree's /ping, then its page, in turn), each ratio to its own server's
/ping. That tree runs on its own schema: a copy of the database (`<name>_before`, made with
CREATE DATABASE … TEMPLATE, remade when the generated samples change) from which the
migrations REF does not have are unapplied; its server has its own Redis database.
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
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
# Redis database 13: the tests flush database 15, and nothing else here uses 13.
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
DEFAULT_BEFORE_BROKER_URL = "redis://127.0.0.1:6379/12"  # --before's server: its own cache
SEARCH_TERMS = ["資安", "校園網站", "親師生平台", "研習 影片", "OpenID", "虛擬機"]
AIM_P99_MS = 200.0
AIM_RATIO = 0.2  # a page under a fifth of /ping is fixed with a query or a fragment
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


def paired_rows(trees, page, rounds, seconds):
    """`rounds` rounds in which each tree in turn gets a /ping slice and a page slice, `seconds`
    each: per tree, the /ping slices, the page's figures over all its slices, and its ratio to
    /ping as the median of each slice's ratio to the /ping slice just before it. Measured this
    way, the minutes-long swings of a shared machine fall on both sides of each ratio alike, and
    on both trees alike."""
    pings = {t.label: [] for t in trees}
    pages = {t.label: [] for t in trees}
    for _ in range(rounds):
        for tree in trees:
            pings[tree.label].append(tree.measure(0, seconds))
            pages[tree.label].append(tree.measure(page, seconds))
    return {
        t.label: (
            pings[t.label],
            combined(pages[t.label]),
            median(
                p["rps"] / q["rps"] for p, q in zip(pages[t.label], pings[t.label], strict=True)
            ),
        )
        for t in trees
    }


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
    """(status, bytes) of one GET; a page that sent a logged-in person elsewhere (the login page:
    a session its tree cannot read) is an error, not the page."""
    request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept-Language": "zh-TW"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 – loopback only
            if urlsplit(r.geturl())[2:4] != urlsplit(url)[2:4]:
                return f"redirected to {r.geturl()}", 0
            return r.status, len(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0


# --- the code trees and their databases -----------------------------------------------------


def worktree(commit):
    """A `git worktree` of `commit` in a temporary folder, with this checkout's virtualenv."""
    path = Path(tempfile.mkdtemp(prefix="portal-tree-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(path), commit],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    (path / ".venv").symlink_to(ROOT / ".venv")
    return path


def remove_worktree(path):
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False,
                   capture_output=True)  # fmt: skip


def _database_name(url):
    return urlsplit(url).path.lstrip("/")


def _pg(url):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def _max_sample_id_at(url):
    connection = _pg(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM vmquota_usagesample")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def copy_database(database_url, copy_url):
    """copy_url's database as a file copy of database_url's, unless it already holds the same
    samples (a copy made before the data was generated again is made anew). Nothing may be
    connected to the source meanwhile. Returns whether it copied."""
    source, copy = _database_name(database_url), _database_name(copy_url)
    admin = _pg(urlunsplit(urlsplit(database_url)._replace(path="/postgres")))
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [copy])
            if cursor.fetchone():
                if _max_sample_id_at(copy_url) == _max_sample_id_at(database_url):
                    return False
                cursor.execute(f'DROP DATABASE "{copy}" WITH (FORCE)')
            # FILE_COPY: a checkpoint and a copy of the files, not 15 GB through the WAL
            cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}" STRATEGY = FILE_COPY')
    finally:
        admin.close()
    return True


def tree_python(tree, env, code):
    """What `code` prints, run by the tree's own Django (its settings, its apps)."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c",
         f"import django; django.setup()\n{code}"],
        cwd=tree, env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def unapply_migrations_missing_from(tree, env):
    """Bring env's database (a copy of this checkout's schema) back to `tree`'s schema: for each
    of this project's apps, migrate to the last of its migrations that `tree` also has (or zero),
    run by this checkout's code, which knows the newer migrations and how to reverse them."""
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    done = []
    for app in sorted({a for a, _ in graph.nodes}):
        module, _ = MigrationLoader.migrations_module(app)
        if not ROOT.joinpath(*module.split(".")).is_dir():
            continue  # a library's: the same virtualenv serves both trees
        theirs = {p.stem for p in tree.joinpath(*module.split(".")).glob("[0-9]*.py")}
        ours = {n for a, n in graph.nodes if a == app}
        if ours <= theirs:
            continue
        shared = ours & theirs
        leaves = [n for n in shared
                  if not any(c.key[0] == app and c.key[1] in shared
                             for c in graph.node_map[(app, n)].children)]  # fmt: skip
        if len(leaves) > 1:
            raise RuntimeError(f"{app}: {leaves} are all last in {tree}; cannot choose")
        target = leaves[0] if leaves else "zero"
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "migrate", app, target,
             "--no-input", "-v0"],
            cwd=ROOT, env={**os.environ, **env}, check=True,
        )  # fmt: skip
        done.append(f"{app} {target}")
    return done


class Tree:
    """One code tree under test: its gunicorn, its database (a Django alias here), its people's
    sessions and collector token, its request lists."""

    def __init__(self, label, cwd, alias, env, backend):
        self.label, self.cwd, self.alias, self.env, self.backend = label, cwd, alias, env, backend
        self.server = self.base_url = self.workdir = self.extra = None
        self.args = None

    def start(self, workers):
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.server = start_gunicorn(self.env, port, workers, cwd=self.cwd)

    def stop(self):
        if self.server is not None:
            stop(self.server)
            self.server = None

    def measure(self, n, seconds):
        return run_wrk(
            self.base_url, BENCH_DIR / "pages.lua", [str(self.requests(n))],
            duration=seconds, connections=self.args.connections, threads=self.args.threads,
            quantiles=self.workdir / f"{self.alias}-quantiles.txt",
        )  # fmt: skip

    def requests(self, n):
        return self.workdir / f"{self.alias}-requests-{n}.tsv"


# --- the people and the pages --------------------------------------------------------------


def session_cookie(user, backend):
    """A logged-in session made with Django's session engine, as login() would leave it with
    `backend` (one its tree lists), and a CSRF cookie; returns (the Cookie header's value, the
    session key)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import _get_new_csrf_string

    from portal.security import SESSION_SEEN, SESSION_STARTED
    from portal.sessions import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_STARTED] = session[SESSION_SEEN] = int(time.time())
    session.set_expiry(4 * 60 * 60)
    session.create()
    # and the CSRF cookie a browser keeps from its first page: without it every page would make
    # a new CSRF secret and send it back as a Set-Cookie, which no returning visitor costs
    csrf = f"{settings.CSRF_COOKIE_NAME}={_get_new_csrf_string()}"
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {csrf}", session.session_key


def prepare(tree):
    """Sessions, a collector token and the request lists, in this checkout's database (see
    move_to for another tree's); returns the targets and sets tree.extra."""
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
        cookie, key = session_cookie(m.user, tree.backend)
        sessions.append(key)
        vm = VirtualMachine.objects.filter(school_id=m.school_id).order_by("pk").first()
        coordinators.append((cookie, vm.pk))
    bureau = []
    for user in User.objects.filter(username__startswith=f"{gen.USER_PREFIX}bureau").order_by(
        "username"
    )[:10]:
        cookie, key = session_cookie(user, tree.backend)
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
    (tree.workdir / "vm_names.txt").write_text("\n".join(names) + "\n", encoding="utf-8")

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
        tree.requests(n).write_text("".join(f"{p}\t{c}\n" for p, c in pairs), encoding="utf-8")
    tree.extra = {"sessions": sessions, "token": token.pk, "raw_token": raw, "vms": len(names)}
    return targets


def _token_tables():
    from vmquota.models import CollectorToken

    through = CollectorToken.hypervisors.through
    column = through._meta.get_field("collectortoken").column
    return CollectorToken._meta.db_table, through._meta.db_table, column


def move_to(tree):
    """The sessions and the token prepare() made for `tree`, moved from this checkout's
    database to the tree's (the same people, VMs and pages: it is a copy)."""
    from portal.models import UserSession

    token_table, through_table, token_column = _token_tables()
    moves = [(UserSession._meta.db_table, "session_key", tree.extra["sessions"]),
             (token_table, "id", [tree.extra["token"]]),
             (through_table, token_column, [tree.extra["token"]])]  # fmt: skip
    for table, column, values in moves:
        rows, names = _select(table, column, values, "default")
        with _cursor(tree.alias) as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 – our own tables
                f"VALUES ({', '.join(['%s'] * len(names))})",
                rows,
            )
    for table, column, values in reversed(moves):
        _delete(table, column, values, "default")


def _cursor(alias):
    from django.db import connections

    return connections[alias].cursor()


def _select(table, column, values, alias):
    with _cursor(alias) as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE {column} = ANY(%s)", [list(values)])  # noqa: S608
        return cursor.fetchall(), [d[0] for d in cursor.description]


def _delete(table, column, values, alias):
    with _cursor(alias) as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [list(values)])  # noqa: S608


# --- ingest compared with COPY ----------------------------------------------------------------


def vacuum_if_earlier_runs_left_dead_rows(limit=1_000_000, alias="default"):
    """Each run deletes the samples it ingested. Until autovacuum comes (at 20 % of 100 M rows),
    those dead rows stay in the heap and the unique index, where the next run's ingest (unique
    checks) and VM pages (index scans) would meet them: 15 M had piled up after a day's runs
    here. So vacuum first when earlier runs left more than `limit` (about a minute here)."""
    with _cursor(alias) as cursor:
        cursor.execute(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'vmquota_usagesample'"
        )
        dead = (cursor.fetchone() or [0])[0]
        if dead > limit:
            print(f"  VACUUM vmquota_usagesample ({alias}): {dead:,} dead rows from earlier runs",
                  file=sys.stderr, flush=True)  # fmt: skip
            cursor.execute("VACUUM (ANALYZE) vmquota_usagesample")


def max_sample_id(alias="default"):
    with _cursor(alias) as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM vmquota_usagesample")
        return cursor.fetchone()[0]


def max_rollup_id(alias="default"):
    """The 5-minute maxima ingest keeps beside the samples (None where the tree has none)."""
    from django.db import connections

    if "vmquota_samplerollup" not in connections[alias].introspection.table_names():
        return None
    with _cursor(alias) as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM vmquota_samplerollup")
        return cursor.fetchone()[0]


def copy_rate(rows=200_000, alias="default"):
    """Samples/s of a raw COPY of `rows` new samples into the same table (same indexes, same
    foreign key), committed; the rows are deleted afterwards."""
    from django.db import transaction

    from bench import generate_load_data as gen
    from vmquota.models import VirtualMachine

    ids = list(
        VirtualMachine.objects.using(alias)
        .filter(hypervisor__name=gen.HYPERVISOR_NAME)
        .values_list("pk", flat=True)
    )
    base = int(time.time()) - 120
    buffer = io.StringIO()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base))
    for n in range(rows):
        # a fraction of a second: never on the generated samples' whole minutes
        buffer.write(f"{ids[n % len(ids)]},{stamp}.{n // len(ids) + 1:06d}+00:00,12.5,300\n")
    before = max_sample_id(alias)
    buffer.seek(0)
    started = time.perf_counter()
    with transaction.atomic(using=alias), _cursor(alias) as cursor:
        cursor.copy_expert(
            "COPY vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) FROM STDIN WITH (FORMAT csv)",
            buffer,
        )
    elapsed = time.perf_counter() - started
    delete_samples_after(before, alias)
    return rows / elapsed


def delete_samples_after(sample_id, alias="default"):
    with _cursor(alias) as cursor:
        cursor.execute("DELETE FROM vmquota_usagesample WHERE id > %s", [sample_id])
        return cursor.rowcount


def profile(targets, tree, runs=20):
    """Each page in this process, one request at a time: queries, SQL time and total time
    (medians), to tell database time from Python time."""
    from django.db import connection
    from django.test import Client

    rows = []
    for n, (label, _, _) in enumerate(targets):
        path, _, cookie = (
            tree.requests(n).read_text(encoding="utf-8").splitlines()[0].partition("\t")
        )
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


def cleanup(tree):
    """The tree's sessions, token and ingested samples (and their 5-minute maxima) deleted, and
    the evaluations its ingest queued (nobody consumes that Redis database)."""
    from portal.models import UserSession

    if tree.extra is None:
        return 0
    token_table, through_table, token_column = _token_tables()
    _delete(UserSession._meta.db_table, "session_key", tree.extra["sessions"], tree.alias)
    _delete(through_table, token_column, [tree.extra["token"]], tree.alias)
    _delete(token_table, "id", [tree.extra["token"]], tree.alias)
    removed = delete_samples_after(tree.first_sample_id, tree.alias)
    if tree.first_rollup_id is not None:
        with _cursor(tree.alias) as cursor:
            cursor.execute("DELETE FROM vmquota_samplerollup WHERE id > %s", [tree.first_rollup_id])
    try:
        import redis

        client = redis.Redis.from_url(tree.env["CELERY_BROKER_URL"])
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
    parser.add_argument(
        "--before", metavar="REF",
        help="also measure this commit (a git worktree, on a copy of the database at its schema)",
    )  # fmt: skip
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--broker-url", default=DEFAULT_BROKER_URL)
    parser.add_argument("--before-broker-url", default=DEFAULT_BEFORE_BROKER_URL)
    args = parser.parse_args(argv)
    database_url = args.database_url or DEFAULT_DATABASE_URL
    if shutil.which("wrk") is None:
        sys.exit("找不到 wrk：請先執行 apt-get install -y wrk")
    env = server_env(database_url, args.broker_url, ROOT / "var" / "bench" / "static")
    os.environ.update(env)
    before = before_tree = None
    if args.before:
        # before Django connects: the copy needs the source database to itself
        before_url = urlunsplit(
            urlsplit(database_url)._replace(path=f"/{_database_name(database_url)}_before")
        )
        before_env = server_env(before_url, args.before_broker_url,
                                ROOT / "var" / "bench" / "static-before")  # fmt: skip
        before_tree = worktree(args.before)
        print(f"  {args.before}: worktree {before_tree}", file=sys.stderr, flush=True)
        if copy_database(database_url, before_url):
            print(f"  copied {_database_name(database_url)} to {_database_name(before_url)}",
                  file=sys.stderr, flush=True)  # fmt: skip
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

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
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    trees = [Tree("after" if args.before else "this checkout", ROOT, "default", env,
                  settings.AUTHENTICATION_BACKENDS[-1])]  # fmt: skip
    if args.before:
        undone = unapply_migrations_missing_from(before_tree, before_env)
        print(f"  {_database_name(before_url)} at {args.before}'s schema: "
              f"{', '.join(undone) or 'nothing to unapply'}", file=sys.stderr, flush=True)  # fmt: skip
        subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", "collectstatic",
                        "--no-input", "-v0"], cwd=before_tree, env={**os.environ, **before_env},
                       check=True)  # fmt: skip
        backend = tree_python(before_tree, before_env,
                              "from django.conf import settings; "
                              "print(settings.AUTHENTICATION_BACKENDS[-1])")  # fmt: skip
        connections.settings["before"] = {**connections.settings["default"],
                                          "NAME": _database_name(before_url)}  # fmt: skip
        before = Tree(f"before ({args.before})", before_tree, "before", before_env, backend)
        trees.insert(0, before)
    for tree in trees:
        tree.args, tree.workdir = args, workdir
        vacuum_if_earlier_runs_left_dead_rows(alias=tree.alias)
        tree.first_sample_id = max_sample_id(tree.alias)
        tree.first_rollup_id = max_rollup_id(tree.alias)
    try:
        for tree in trees:
            targets = prepare(tree)
            if tree.alias != "default":
                move_to(tree)
        if args.only == "ingest":
            targets = [t for t in targets if t[1] == "/ping"]
        batches = [] if args.only == "pages" else [int(b) for b in args.batches.split(",")]
        for tree in trees:
            tree.start(args.workers)
        results = {t.label: [] for t in trees}
        pings = {t.label: [] for t in trees}
        slice_s = max(1, args.duration // args.rounds)
        for n, (label, shown, _) in enumerate(targets):
            sizes_shown = {}
            for tree in trees:
                path, _, cookie = (
                    tree.requests(n).read_text(encoding="utf-8").splitlines()[0].partition("\t")
                )
                status, size = fetch_status(tree.base_url + path, cookie)
                if status != 200:
                    raise RuntimeError(f"{tree.label}, {label}: {path} answered {status}, not 200")
                sizes_shown[tree.label] = size
                # a short warm-up: each worker imports and compiles templates on first use
                tree.measure(n, 2)
            if n == 0:
                for tree in trees:
                    results[tree.label].append({"label": label, "path": shown,
                                                "bytes": sizes_shown[tree.label]})  # fmt: skip
                continue
            for tree_label, (ping_runs, figures, ratio) in paired_rows(
                trees, n, args.rounds, slice_s
            ).items():
                pings[tree_label].extend(ping_runs)
                results[tree_label].append({"label": label, "path": shown, "ratio": ratio,
                                            "bytes": sizes_shown[tree_label], **figures})  # fmt: skip
                print(f"  {tree_label:<22} {label:<24} {figures['rps']:>8.1f} req/s  "
                      f"p50 {figures['p50']:.1f} ms  p99 {figures['p99']:.1f} ms  ratio "
                      f"{ratio:.2f} (slices {figures['slices']}, "
                      f"/ping {[round(r['rps']) for r in ping_runs]})", file=sys.stderr, flush=True)  # fmt: skip
        # the trivial view's row: all its slices, taken beside every page (or alone)
        for tree in trees:
            results[tree.label][0].update(
                combined(pings[tree.label] or [tree.measure(0, args.duration)])
            )
        ingests = {t.label: [] for t in trees}
        copies = {t.label: [] for t in trees}
        # five slices per tree, each followed by a COPY of 200 000 rows (2–3 s) into that tree's
        # database: one slice's ratio moved from 0.46 to 0.69 within a run (checkpoints, the COPY
        # itself), so a median of three could land anywhere in that
        ingest_rounds = 5
        ingest_slice_s = max(1, args.duration // 3)
        for batch in batches:
            slices = {t.label: [] for t in trees}
            ratios = {t.label: [] for t in trees}
            for tree in trees:
                ingest_args = [str(workdir / "vm_names.txt"), tree.extra["raw_token"], str(batch)]
                run_wrk(tree.base_url, BENCH_DIR / "ingest.lua",
                        [*ingest_args, str(int(time.time()) - 300)],
                        duration=2, connections=args.connections, threads=args.threads)  # fmt: skip
            for _ in range(ingest_rounds):
                for tree in trees:
                    ingest_args = [
                        str(workdir / "vm_names.txt"),
                        tree.extra["raw_token"],
                        str(batch),
                    ]
                    time.sleep(1)  # each slice's timestamps start at another second
                    figures = run_wrk(
                        tree.base_url, BENCH_DIR / "ingest.lua",
                        [*ingest_args, str(int(time.time()) - 240)],
                        duration=ingest_slice_s, connections=args.connections,
                        threads=args.threads, quantiles=workdir / "quantiles.txt",
                    )  # fmt: skip
                    copies[tree.label].append(copy_rate(alias=tree.alias))
                    slices[tree.label].append(figures)
                    ratios[tree.label].append(figures["rps"] * batch / copies[tree.label][-1])
            for tree in trees:
                ingests[tree.label].append({"batch": batch, "vs_copy": median(ratios[tree.label]),
                                            **combined(slices[tree.label])})  # fmt: skip
                print(f"  {tree.label:<22} ingest {batch:>5} a request  "
                      f"{ingests[tree.label][-1]['rps']:>6.1f} req/s  "
                      f"{ingests[tree.label][-1]['vs_copy']:.2f} of COPY "
                      f"(slices {[round(r, 2) for r in ratios[tree.label]]})",
                      file=sys.stderr, flush=True)  # fmt: skip
        for tree in trees:
            tree.stop()
        timings = profile(targets, trees[-1])
    finally:
        removed = 0
        for tree in trees:
            tree.stop()
            removed += cleanup(tree)
        shutil.rmtree(workdir, ignore_errors=True)
        if before is not None:
            connections["before"].close()
        if before_tree is not None:
            remove_worktree(before_tree)
    # the reference moves by a fifth between runs minutes apart (checkpoints, the page cache, the
    # machine): each ingest slice is compared with the COPY right after it, the median kept
    report(trees, results, ingests, copies, args, sizes, removed, timings)


def report(trees, results, ingests, copies, args, sizes, ingested_rows, timings):
    labels = [t.label for t in trees]
    print()
    print(f"Load benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}: gunicorn {args.workers} sync "
          f"workers, wrk {args.threads} threads × {args.connections} connections over "
          f"127.0.0.1; each page {args.rounds} × {max(1, args.duration // args.rounds)} s, each "
          "slice after as long a slice of its own server's /ping, its ratio the median of the "
          f"slices' ratios; PostgreSQL, {os.cpu_count()} cores shared by server, database and "
          f"load tool (load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at the "
          "end).")  # fmt: skip
    if len(trees) > 1:
        print(f"Trees: {', '.join(labels)}, measured in turn slice by slice; each on its own "
              "database with the same rows, at its own schema.")  # fmt: skip
    print("Data: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sizes.items()))
    print()
    heads = [f"{h} ({label})" if len(trees) > 1 else h
             for label in labels for h in ("req/s", "p99 ms", "ratio to /ping")]  # fmt: skip
    print(f"| page | path | {' | '.join(heads)} | errors | limits | limits met |")
    print(f"| --- | --- | {' | '.join(['---:'] * len(heads))} | ---: | --- | --- |")
    first = results[labels[0]]
    for i, row in enumerate(first):
        rows = [results[label][i] for label in labels]
        cells = [c for r in rows for c in (f"{r['rps']:,.0f}", f"{r['p99']:.1f}",
                                          f"{r.get('ratio', 1.0):.2f}")]  # fmt: skip
        errors = " / ".join(str(r["errors"]) for r in rows)
        if i == 0:
            limits, met = "–", "–"
        else:
            limits = f"p99 < {AIM_P99_MS:.0f}, ratio ≥ {AIM_RATIO}"
            met = " / ".join(_aims(r["p99"] < AIM_P99_MS, r["ratio"] >= AIM_RATIO) for r in rows)
        print(f"| {row['label']} | `{row['path']}` | {' | '.join(cells)} | {errors} | {limits} "
              f"| {met} |")  # fmt: skip
    for i, ingest in enumerate(ingests[labels[0]]):
        rows = [ingests[label][i] for label in labels]
        cells = [c for r in rows for c in (f"{r['rps']:,.0f} ({r['rps'] * r['batch']:,.0f} "
                                           "samples/s)", f"{r['p99']:.1f}",
                                           f"{r['vs_copy']:.2f} of COPY")]  # fmt: skip
        errors = " / ".join(str(r["errors"]) for r in rows)
        met = " / ".join(_aims(r["vs_copy"] >= AIM_INGEST_VS_COPY) for r in rows)
        print(f"| sample ingest ({ingest['batch']} a request) | `POST /api/vmquota/samples` | "
              f"{' | '.join(cells)} | {errors} | ≥ {AIM_INGEST_VS_COPY} of COPY | {met} |")  # fmt: skip
    if any(copies.values()):
        cells = []
        for label in labels:
            c = sorted(copies[label])
            cells += [f"{c[len(c) // 2]:,.0f} samples/s ({c[0]:,.0f}–{c[-1]:,.0f})", "", "1.00"]
        print(f"| raw COPY, same table (median of each tree's COPYs; each ingest slice's ratio is "
              f"to the COPY after it) | `COPY … FROM STDIN` | {' | '.join(cells)} | | | |")  # fmt: skip
    print()
    print(f"Limits: every page's p99 < {AIM_P99_MS:.0f} ms and req/s ≥ {AIM_RATIO} of its server's "
          f"/ping; ingest ≥ {AIM_INGEST_VS_COPY} of COPY's samples/s (its p99 is shown, the p99 "
          f"limit is for pages). {ingested_rows:,} ingested samples were deleted afterwards.")  # fmt: skip
    print()
    print(f"One request at a time, in-process ({labels[-1]}; medians of 20, cached fragments "
          "warm as under load): where the time goes.")  # fmt: skip
    print()
    print("| page | queries | SQL ms | total ms | other (Python, templates) ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, count, sql, total in timings:
        print(f"| {label} | {count} | {sql:.1f} | {total:.1f} | {total - sql:.1f} |")


def _aims(*checks):
    return "yes" if all(checks) else "**no**"


if __name__ == "__main__":
    main()
