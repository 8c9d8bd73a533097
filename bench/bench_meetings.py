"""Benchmarks of the minutes (prints figures, asserts nothing about time).

    .venv/bin/python -m bench.bench_meetings
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_meetings .venv/bin/python -m bench.bench_meetings

Creates a throw-away test database (test_<name>), then measures:
1. the meeting page's SQL query count for a small and a large meeting (must be equal);
2. search latency over 120 generated meetings (ten years of monthly minutes);
3. import time of the seed minutes (parse + validate + save in one transaction).
"""

import os
import statistics
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import throwaway_database  # noqa: E402

SEED = Path(__file__).resolve().parents[1] / "meetings" / "seed" / "108-09.txt"


def count_queries(client, url, params=None):
    # queries_log is a bounded deque (9000): after the bulk imports it is full, so clear it
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return len(queries)


def ms(samples):
    return f"median {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"


def main():
    with throwaway_database():
        run()


def run():
    from django.test import Client

    from meetings import hooks, importer, selectors, services
    from meetings.models import Meeting, SearchEntry
    from portal import demo
    from portal.models import Division

    demo.load()
    bureau = django.contrib.auth.get_user_model().objects.get(username="bureau")
    coordinator = django.contrib.auth.get_user_model().objects.get(username="coordinator")
    text = SEED.read_text(encoding="utf-8")
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")

    # 3. import time of the seed (the first import goes through the real tracking app)
    samples = []
    start = time.perf_counter()
    seed = services.meeting_import(text=text, user=bureau, publish=True)
    samples.append(time.perf_counter() - start)
    parse = []
    for _ in range(20):
        t0 = time.perf_counter()
        importer.parse(text)
        parse.append(time.perf_counter() - t0)

    # generated meetings: the seed under other dates; tracking's own rules are not the subject here
    hooks._import_steps.clear()  # tracking's, filled in its AppConfig.ready()
    hooks._saved.clear()
    generated = 0
    for year in range(99, 109):
        for month in range(1, 13):
            if (year, month) == (108, 9):
                continue
            variant = text.replace("108 年度 9 月份", f"{year} 年度 {month} 月份").replace(
                "108 年 9 月 10 日（星期二）", f"{year} 年 {month} 月 10 日"
            )
            t0 = time.perf_counter()
            services.meeting_import(text=variant, user=bureau, publish=True)
            samples.append(time.perf_counter() - t0)
            generated += 1
    print(
        f"import of the seed minutes: first (with tracking) {samples[0] * 1000:.0f} ms; "
        f"{generated} more imports {ms(samples[1:])}; parse only {ms(parse)}"
    )
    print(f"meetings: {Meeting.objects.count()}, search rows: {SearchEntry.objects.count()}")

    # 1. the meeting page's query count: the seed (39 items) and a meeting with 400 items
    client = Client()
    client.force_login(coordinator)
    client.get("/meetings/")
    big = services.meeting_create(user=bureau, title="大型會議", held_on=date(2020, 1, 1))
    divisions = list(Division.objects.all())
    for i in range(200):
        parent = services.report_item_add(
            meeting=big, user=bureau, division=divisions[i % 3], text=f"項目 {i}。"
        )
        services.report_item_add(
            meeting=big, user=bureau, division=divisions[i % 3], text="子項。", parent=parent
        )
    services.meeting_publish(meeting=big, user=bureau)
    for label, meeting in (("seed, 39 items", seed), ("generated, 400 items", big)):
        count = count_queries(client, meeting.get_absolute_url())
        timings = []
        for _ in range(5):
            t0 = time.perf_counter()
            client.get(meeting.get_absolute_url())
            timings.append(time.perf_counter() - t0)
        print(f"meeting page ({label}): {count} SQL queries, {ms(timings)}")

    # 2. search latency over 120 meetings
    for q in ("資安", "黑快馬", "OpenID", "不存在的詞"):
        hits = selectors.search(q)
        timings = []
        for _ in range(20):
            t0 = time.perf_counter()
            selectors.search(q)
            timings.append(time.perf_counter() - t0)
        count = count_queries(client, "/meetings/search/", {"q": q})
        print(f"search {q!r}: {len(hits)} hits (limit {selectors.SEARCH_LIMIT}), {ms(timings)}, "
              f"page {count} queries")  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN ANALYZE SELECT id FROM meetings_searchentry "
                "WHERE published AND UPPER(text::text) LIKE UPPER(%s) ORDER BY held_on DESC LIMIT 100",
                ["%資安%"],
            )
            plan = [row[0] for row in cursor.fetchall()]
        print(
            "plan for 資安:", " | ".join(p.strip() for p in plan if "Scan" in p or "Execution" in p)
        )


if __name__ == "__main__":
    main()
