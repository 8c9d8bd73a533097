"""Benchmark of the tracking pages: query counts and timings of the item list and an item page
with 500 items (each with 3 updates) and one item with 200 updates. Prints figures, asserts
nothing about time.

    .venv/bin/python -m bench.bench_tracking            # SQLite (a throw-away test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_tracking .venv/bin/python -m bench.bench_tracking
"""

import os
import statistics
import time
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import throwaway_database  # noqa: E402

ITEMS, UPDATES_PER_ITEM, BUSY_ITEM_UPDATES, RUNS = 500, 3, 200, 15


def _populate():
    from meetings.models import Meeting, MeetingSeries
    from portal.models import Division
    from tests import factories
    from tracking.models import Review, StatusUpdate, TrackedItem

    division = Division.objects.create(name="系統平臺組", position=2)
    clerk = factories.bureau_staff(username="bench-clerk", division=division)
    series = MeetingSeries.objects.create(name="聯席會議", organiser="教育局")
    meetings = [
        Meeting.objects.create(series=series, held_on=date(2019, m, 10), title=f"108 年度 {m} 月份")
        for m in range(1, 11)
    ]
    now = timezone.now()
    items = TrackedItem.objects.bulk_create(
        TrackedItem(
            case_no=f"108-01-{i:03d}",
            subject=f"第 {i} 個列管事項：校務行政系統功能調整",
            division=division,
            opened_on=date(2019, 1, 10),
            last_update_at=now - timedelta(days=i),
        )
        for i in range(1, ITEMS + 1)
    )
    StatusUpdate.objects.bulk_create(
        StatusUpdate(item=item, author=clerk, text=f"辦理情形 {k}", created_at=now)
        for item in items
        for k in range(UPDATES_PER_ITEM)
    )
    busy = items[0]
    StatusUpdate.objects.bulk_create(
        StatusUpdate(item=busy, author=clerk, text=f"更新 {k}", created_at=now)
        for k in range(BUSY_ITEM_UPDATES)
    )
    Review.objects.bulk_create(
        Review(item=busy, meeting=m, position=1, previous_status="/", current_status="進行中")
        for m in meetings
    )
    return clerk, busy


def _measure(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    queries = len(ctx.captured_queries)  # read now: each request start clears the query log
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
    return queries, statistics.median(timings), max(timings)


def main():
    with throwaway_database():
        clerk, busy = _populate()
        client = Client()
        client.force_login(clerk)
        client.get("/")
        print(f"tracking bench on {connection.vendor}: {ITEMS} items × {UPDATES_PER_ITEM} updates, "
              f"one item with {BUSY_ITEM_UPDATES} updates and 10 reviews; {RUNS} runs each")  # fmt: skip
        print(f"{'page':<34}{'queries':>8}{'median ms':>11}{'max ms':>9}")
        for label, url in [
            ("list (open, page 1 of 50 rows)", "/tracking/"),
            ("list (search + stale filter)", "/tracking/?state=&q=校務&stale=on"),
            ("list (page 10)", "/tracking/?state=open&page=10"),
            (f"item page ({BUSY_ITEM_UPDATES} updates)", busy.get_absolute_url()),
            ("item page (3 updates)", "/tracking/108-01-250/"),
            ("xlsx export (500 open items)", "/tracking/export.xlsx"),
            ("atom feed", "/tracking/feed/"),
        ]:
            queries, median, worst = _measure(client, url)
            print(f"{label:<34}{queries:>8}{median:>11.1f}{worst:>9.1f}")


if __name__ == "__main__":
    main()
