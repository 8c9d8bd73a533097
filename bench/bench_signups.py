"""Benchmark: the bureau grid and the export for 300 schools. Prints figures, asserts nothing.

.venv/bin/python -m bench.bench_signups            # SQLite (in memory)
DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_signups .venv/bin/python -m bench.bench_signups
"""

import os
import statistics
import time
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import throwaway_database  # noqa: E402

SCHOOLS = 300
ROWS_PER_SUBMITTED_SCHOOL = 3
RUNS = 10


def build():
    from django.utils import timezone

    from portal.models import District, School
    from signups import services
    from signups.models import Offer, Response, Status
    from tests import factories

    bureau = factories.bureau_staff(username="bench-bureau")
    now = timezone.now()
    survey = services.survey_create(
        by=bureau, title="寒假青少年休閒育樂活動開辦調查表（基準測試）",
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10), school_year=108,
        activity_starts_on=date(2020, 1, 21), activity_ends_on=date(2020, 2, 10),
        blackouts=[("除夕及春假", date(2020, 1, 23), date(2020, 1, 29))],
    )  # fmt: skip
    districts = [District.objects.create(name=f"基準分區{i}", position=i) for i in range(9)]
    schools = School.objects.bulk_create(
        [School(name=f"基準{i:03d}國小", code=f"B{i:05d}", district=districts[i % 9])
         for i in range(SCHOOLS)]
    )  # fmt: skip
    statuses = [Status.SUBMITTED, Status.DRAFT, Status.DECLINED, Status.NONE]
    responses = Response.objects.bulk_create(
        [Response(survey=survey, school=s, status=statuses[i % 4]) for i, s in enumerate(schools)
         if i % 5]
    )  # fmt: skip
    Offer.objects.bulk_create(
        [Offer(response=r, position=n, category="技能研習", course_name=f"FUN Coding {n}",
               activity_starts_on=date(2020, 2, 3), activity_ends_on=date(2020, 2, 4),
               venue=r.school.name, fee=0, registration_starts_on=date(2019, 12, 25),
               registration_ends_on=date(2020, 1, 3), grade_from=4, grade_to=6,
               gender="girls_only", capacity=20)
         for r in responses for n in range(ROWS_PER_SUBMITTED_SCHOOL)]
    )  # fmt: skip
    return survey, bureau


def main():
    with throwaway_database():
        from django.test import Client
        from django.urls import reverse

        from signups import resources
        from signups.models import Offer, Status

        survey, bureau = build()
        client = Client()
        client.force_login(bureau)
        url = reverse("signups:grid", args=[survey.pk])
        client.get(url)
        timings = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - start)
            assert response.status_code == 200
        export_timings, size = [], 0
        rows = Offer.objects.filter(
            response__survey=survey, response__status=Status.SUBMITTED
        ).count()
        for _ in range(RUNS):
            start = time.perf_counter()
            data = resources.export_xlsx(survey)
            export_timings.append(time.perf_counter() - start)
            size = len(data)
        print(f"database: {connection.vendor}")
        print(f"grid for {SCHOOLS} schools: {len(queries)} SQL queries per request")
        print(f"grid render: median {statistics.median(timings) * 1000:.0f} ms, "
              f"max {max(timings) * 1000:.0f} ms over {RUNS} requests")  # fmt: skip
        print(f"export of {rows} rows: median {statistics.median(export_timings) * 1000:.0f} ms, "
              f"{size / 1024:.0f} KiB")  # fmt: skip


if __name__ == "__main__":
    main()
