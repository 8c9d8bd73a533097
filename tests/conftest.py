"""Shared fixtures: the people of the network, and the real services some tests need.

A test that needs PostgreSQL, Redis, Chromium or a Celery worker skips on a laptop without it,
but fails in CI, where `.ci/run` sets PORTAL_REQUIRE_SERVICES=1.

The suite runs in parallel under pytest-xdist (`-n 2`): each xdist worker has its own test
database (pytest-django appends the worker's name), its own Redis database (`REDIS_URL`) and its
own ports for the redis-servers that fault tests stop and start (`own_redis_port`).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connection

from tests import factories

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("PORTAL_REQUIRE_SERVICES", "") == "1"
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
# gw0, gw1, … under pytest-xdist; 0 in a plain run
WORKER_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _redis_url_of_this_worker(url):
    """PORTAL_TEST_REDIS_URL names the first worker's Redis database; worker i uses the i-th
    below it (15, 14, …), since `redis_url` flushes its database before every test."""
    parsed = urlparse(url)
    db = int(parsed.path.strip("/") or 0) - WORKER_INDEX
    if db < 0:
        raise RuntimeError(
            f"PORTAL_TEST_REDIS_URL={url} leaves no Redis database for worker {WORKER_INDEX}"
        )
    return parsed._replace(path=f"/{db}").geturl()


REDIS_URL = _redis_url_of_this_worker(
    os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
)
OWN_REDIS_PORT = int(os.environ.get("PORTAL_TEST_OWN_REDIS_PORT", "6390"))


def own_redis_port(slot):
    """The port of a redis-server a test starts itself (to stop and start again): two per xdist
    worker from PORTAL_TEST_OWN_REDIS_PORT (6390 unless set), `slot` 0 or 1 within them."""
    assert slot in (0, 1)
    return OWN_REDIS_PORT + 2 * WORKER_INDEX + slot


SCREENSHOTS = ROOT / "var" / "screenshots"

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API + live_server


def pytest_collection_modifyitems(config, items):
    """Tests marked slow start first: under pytest-xdist a long test that starts last keeps
    one worker busy while the others have finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def missing_service(what):
    """Skip on a laptop; fail in CI, where every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required in CI (PORTAL_REQUIRE_SERVICES=1) but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits and vmquota's evaluation nudge live in the cache; each test starts
    with none."""
    from django.core.cache import cache

    cache.clear()
    yield


def _templates_only(store, signal, sender, template, context, **kwargs):
    store.setdefault("templates", []).append(template)


@pytest.fixture(autouse=True)
def _templates_without_their_context(request, monkeypatch):
    """Django's test client copies the whole context at every template and include it renders
    (for `response.context`): most of a crawl's time on pages with a form per row. Tests that
    read `response.context` are marked `template_context`; the others keep `response.templates`."""
    if request.node.get_closest_marker("template_context"):
        return
    from django.test import client as test_client

    monkeypatch.setattr(test_client, "store_rendered_templates", _templates_only)


# --- the people of the network --------------------------------------------------------------


@pytest.fixture
def wenshan(db):
    return factories.DistrictFactory(name="文山分區", position=4)


@pytest.fixture
def banqiao(db):
    return factories.DistrictFactory(name="板橋分區", position=1)


@pytest.fixture
def xindian_school(wenshan):
    return factories.SchoolFactory(name="新店國小", code="014632", district=wenshan)


@pytest.fixture
def beixin_school(wenshan):
    return factories.SchoolFactory(name="北新國小", code="014631", district=wenshan)


@pytest.fixture
def jiangcui_school(banqiao):
    return factories.SchoolFactory(name="江翠國中", code="014501", district=banqiao)


@pytest.fixture
def coordinator(xindian_school):
    """The coordinator (資訊組長) of 新店國小."""
    return factories.coordinator_of(xindian_school, username="xindian-coordinator")


@pytest.fixture
def other_coordinator(jiangcui_school):
    """The coordinator of 江翠國中, another district."""
    return factories.coordinator_of(jiangcui_school, username="jiangcui-coordinator")


@pytest.fixture
def convener(wenshan):
    return factories.convener_of(wenshan, username="wenshan-convener")


@pytest.fixture
def bureau(db):
    return factories.bureau_staff(username="bureau-clerk")


@pytest.fixture
def sysadmin(db):
    return factories.admin_user()


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


# --- real services ---------------------------------------------------------------------------


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL (set DATABASE_URL=postgres://…)")
    return connection


def _redis_up(url):
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url():
    if not _redis_up(REDIS_URL):
        missing_service(f"Redis at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


def _database_url_for_children():
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class WorkerProcess:
    """A real `celery worker` process on Redis, using the test database; e-mail goes to files."""

    def __init__(self, tmp_path, broker_url, extra_env=None):
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.log_path = tmp_path / "worker.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "worker-test-key",
            "DATABASE_URL": _database_url_for_children(),
            "DATABASE_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker_url,
            # django-environ drops the leading slash of filemail:///abs; four slashes keep it
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
            "C_FORCE_ROOT": "1",
            **(extra_env or {}),
        }
        self.process = None

    def start(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=prefork",
             "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--queues=celery,imports"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()}")
            if "ready." in self.log_path.read_text():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in 45 s:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def sent_mail(self):
        return sorted(p.read_text() for p in self.mail_dir.glob("*.log"))


def wait_for(predicate, timeout=30, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def use_broker(app, url):
    """Point this process's Celery app at another broker, dropping pooled connections."""
    # Only drop references: kombu keeps producer pools in a global registry keyed by the
    # connection, so closing one here would break every later publish to the same URL.
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_worker_process(transactional_db, redis_url, tmp_path):
    """Start a real worker on Redis and route this process's tasks to it (not eager)."""
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL (a worker process cannot share the in-memory SQLite database)")
    from portal.celery import app

    saved_url, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(app, redis_url)
    app.conf.task_always_eager = False
    worker = WorkerProcess(tmp_path, redis_url).start()
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_always_eager = saved_eager
        use_broker(app, saved_url)


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        missing_service(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        locale="zh-TW", timezone_id="Asia/Taipei", base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def both_widths(page, screenshot, name):
    """The page at its desktop width, then at a phone's (375 px), then back at 1 280 px."""
    screenshot(page, name)
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name") writes var/screenshots/<name>-<width>.png for people to look at."""

    def _shot(page, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        path = SCREENSHOTS / f"{name}-{width}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as exc:  # noqa: BLE001
            # Chromium sometimes refuses a capture while the machine is loaded ("Unable to
            # capture screenshot"; seen once in a CI run, never again alone): one more try
            if "Unable to capture screenshot" not in str(exc):
                raise
            page.wait_for_timeout(500)
            page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def browser_login(page, username, password=factories.PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("帳號或電子郵件").fill(username)
    page.get_by_label("密碼").fill(password)
    page.get_by_role("button", name="登入").click()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, with two additions on PostgreSQL.

    Commits do not wait for the disk (synchronous_commit off for every connection to the test
    database, the workers' and servers' too): no test survives a crash of the server, and the
    transactional tests commit a lot.

    Before the database is dropped, any session still connected to it is ended, and named: an
    idle connection that outlives its test (which one depends on the order) would make
    PostgreSQL refuse the DROP ("being accessed by other users") and leave the database behind."""
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
            cursor.execute("SET synchronous_commit = off")
    yield
    from django.db import connection as main

    if main.vendor != "postgresql":
        return
    import psycopg2

    s = main.settings_dict
    mine = main.connection.get_backend_pid() if main.connection is not None else None
    admin = psycopg2.connect(dbname="postgres", user=s.get("USER") or "postgres",
                             host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432)  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pid, state, left(query, 60), pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND pid IS DISTINCT FROM %s",
            [s["NAME"], mine],
        )
        left = cur.fetchall()
    admin.close()
    if left:
        print(f"\nclosed {len(left)} connection(s) left open to {s['NAME']}: {left}")
