"""The VM page's chart: the database's 5-minute maxima (`bucket_maxima`) equal the Python
bucketing (`buckets`) the page used before, sample for sample – window edges, bucket edges,
gaps, microseconds, other VMs – and the page shows exactly what it showed with Python."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.vmquota import factories
from tests.vmquota.traces import TPE
from vmquota import selectors
from vmquota.chart import BUCKET, bucket_maxima, buckets, vm_charts
from vmquota.ingest import store
from vmquota.models import Incident, UsageSample

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 10, 3, 17, 123456, tzinfo=UTC)  # not on a minute: buckets aren't
START = NOW - timedelta(hours=24)
US = timedelta(microseconds=1)


@pytest.fixture
def vm(xindian_school):
    return factories.vm("xd-chart", xindian_school)


@pytest.fixture
def neighbour(xindian_school):
    return factories.vm("xd-other", xindian_school)


def stored(vm):
    """What the page read before: the VM's raw samples, oldest first."""
    return list(
        UsageSample.objects.filter(vm=vm)
        .order_by("ts")
        .values_list("ts", "cpu_percent", "net_kbps")
    )


def test_window_and_bucket_edges_gaps_and_other_vms(vm, neighbour):
    samples = [
        (START - timedelta(minutes=3), 100.0, 9e5),  # before the window
        (START - US, 100.0, 9e5),  # a microsecond before the window
        (START, 10.0, 100.0),  # the window's first instant: bucket 0
        (START + BUCKET - US, 20.0, 50.0),  # the last microsecond of bucket 0
        (START + BUCKET, 30.0, 40.0),  # the first instant of bucket 1
        (START + BUCKET + timedelta(minutes=1), 5.0, 400.0),  # net's max from another sample
        # buckets 2–99 empty (a gap of 8 hours)
        (START + 100 * BUCKET + timedelta(seconds=1), 0.0, 0.0),  # zeros are data too
        ((START + 150 * BUCKET).astimezone(TPE), 55.5, 12.25),  # another offset, same instant
        (START + 200 * BUCKET + timedelta(seconds=30, microseconds=1), 99.9, 23040.0),
        (START + 200 * BUCKET + timedelta(minutes=4, seconds=59), 100.0, 1.0),
        (NOW - US, 1.0, 2.0),  # bucket 287
        (NOW, 3.0, 4.0),  # the window's last instant: a 289th bucket starting at NOW
        (NOW + US, 100.0, 9e5),  # after the window
        (NOW + timedelta(minutes=4), 100.0, 9e5),
    ]
    store([(vm.pk, ts, cpu, net) for ts, cpu, net in samples])
    # another VM's samples in the same buckets stay out
    store([(neighbour.pk, ts, 100.0, 9e5) for ts, _, _ in samples])

    python = buckets(stored(vm), START, NOW)
    sql = bucket_maxima(UsageSample.objects.filter(vm=vm), START, NOW)
    assert sql == python
    assert [(t - START) // BUCKET for t, _, _ in sql] == [0, 1, 100, 150, 200, 287, 288]
    assert sql[0] == (START, 20.0, 100.0)
    assert sql[1] == (START + BUCKET, 30.0, 400.0)
    assert sql[-1] == (NOW, 3.0, 4.0)


def test_whole_minutes_and_no_samples(vm):
    now = NOW.replace(second=0, microsecond=0)  # a whole minute: buckets on the clock
    start = now - timedelta(hours=24)
    assert bucket_maxima(UsageSample.objects.filter(vm=vm), start, now) == []
    store([(vm.pk, now - timedelta(minutes=m), float(m % 101), float(m * 3)) for m in range(1441)])
    # 400 µs before a bucket's end: SQLite's strftime would round this up into the next second
    # (and bucket)
    store([(vm.pk, start + BUCKET - 400 * US, 100.0, 1e6)])
    rows = bucket_maxima(UsageSample.objects.filter(vm=vm), start, now)
    assert rows == buckets(stored(vm), start, now)
    assert len(rows) == 289  # 288 five-minute buckets, and the sample at `now` starts one more
    assert rows[0] == (start, 100.0, 1e6)


offsets = st.integers(min_value=-10 * 60 * 10**6, max_value=(24 * 60 + 10) * 60 * 10**6)
values = st.one_of(
    st.sampled_from([0.0, 95.0, 100.0]), st.floats(0, 100, allow_nan=False), st.integers(0, 100)
)
nets = st.one_of(st.sampled_from([0.0, 23040.0]), st.floats(0, 1e7, allow_nan=False))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    now_us=st.integers(min_value=0, max_value=86_400 * 10**6 - 1),
    samples=st.lists(st.tuples(offsets, values, nets), max_size=60, unique_by=lambda s: s[0]),
    whole_seconds=st.booleans(),
)
@example(now_us=0, samples=[(0, 1.0, 1.0), (24 * 3600 * 10**6, 2.0, 2.0)], whole_seconds=False)
@example(now_us=0, samples=[(300 * 10**6 - 400, 1.0, 1.0)], whole_seconds=False)
@example(now_us=999_999, samples=[(300 * 10**6 - 1, 1.0, 1.0)], whole_seconds=False)
def test_the_database_buckets_like_python(vm, now_us, samples, whole_seconds):
    UsageSample.objects.all().delete()
    now = datetime(2026, 11, 28, tzinfo=UTC) + timedelta(microseconds=now_us)
    start = now - timedelta(hours=24)
    rows = {}
    for offset, cpu, net in samples:
        ts = start + timedelta(microseconds=offset)
        if whole_seconds:
            ts = ts.replace(microsecond=0)
        rows.setdefault(ts, (vm.pk, ts, float(cpu), float(net)))
    store(list(rows.values()))
    assert bucket_maxima(UsageSample.objects.filter(vm=vm), start, now) == buckets(
        stored(vm), start, now
    )


def test_the_page_shows_what_python_bucketing_showed(vm, neighbour):
    version = factories.seed_policy(effective_from=NOW - timedelta(days=3))
    cpu_rule = version.rules.get(metric="cpu_percent", threshold=95)
    samples = [
        (NOW - timedelta(minutes=m, seconds=7), 99.0 if m % 200 < 40 else float(m % 60), m * 11.5)
        for m in range(24 * 60 + 20)
        if not 300 <= m < 420  # two hours without data
    ]
    store([(vm.pk, ts, cpu, net) for ts, cpu, net in samples])
    store([(neighbour.pk, ts, 100.0, 9e5) for ts, _, _ in samples])
    Incident.objects.create(
        vm=vm, rule=cpu_rule, streak_start=NOW - timedelta(hours=5), first_value=99,
        fired_at=NOW - timedelta(hours=4, minutes=30), fired_value=99,
        ended_at=NOW - timedelta(hours=4), end_reason="recovered",
    )  # fmt: skip

    page = selectors.vm_page(vm, now=NOW)

    # what vm_page computed before: every raw sample of the window, bucketed in Python
    raw = list(
        UsageSample.objects.filter(vm=vm, ts__gte=START, ts__lte=NOW)
        .order_by("ts")
        .values_list("ts", "cpu_percent", "net_kbps")
    )
    incidents = [i for i in page["incidents"] if not i.observe_only]
    before = vm_charts(buckets(raw, START, NOW), START, NOW, list(version.rules.all()), incidents)
    charts = dict(page["charts"])
    table = charts.pop("table_html")  # the text alternative, rendered with the charts
    assert charts == before
    assert table.count("<tr>") == len(before["rows"]) + 1  # its header row and one per bucket
    assert page["latest"] == raw[-1]
    assert 'class="vmq-incident"' in page["charts"]["cpu_svg"]


def test_a_vm_without_samples_in_the_window_has_no_latest_sample(vm):
    store([(vm.pk, START - timedelta(minutes=1), 50.0, 50.0)])
    page = selectors.vm_page(vm, now=NOW)
    assert page["latest"] is None and page["charts"]["rows"] == []


# --- the rendered charts are cached for the minute, keyed on what they are drawn from ---------


def drew(vm, now):
    """(page, whether the charts were drawn – i.e. the bucket query ran – rather than cached)."""
    with CaptureQueriesContext(connection) as queries:
        page = selectors.vm_page(vm, now=now)
    return page, any("MAX(" in q["sql"] for q in queries.captured_queries)


def test_the_charts_are_drawn_once_a_minute_until_what_they_show_changes(vm):
    version = factories.seed_policy(effective_from=NOW - timedelta(days=3))
    store([(vm.pk, NOW - timedelta(minutes=m), 50.0, 10.0) for m in range(1, 120)])
    first, drawn = drew(vm, NOW)
    assert drawn
    again, drawn = drew(vm, NOW + timedelta(seconds=20))
    assert not drawn and again["charts"] == first["charts"]

    # a new sample: drawn again, and shown
    store([(vm.pk, NOW + timedelta(seconds=10), 99.0, 10.0)])
    page, drawn = drew(vm, NOW + timedelta(seconds=20))
    assert drawn and page["charts"]["rows"][-1][1] == 99.0

    # an incident appears, then ends: drawn again each time
    incident = Incident.objects.create(
        vm=vm, rule=version.rules.get(metric="cpu_percent", threshold=95),
        streak_start=NOW - timedelta(minutes=50), fired_at=NOW - timedelta(minutes=20),
        first_value=99, fired_value=99,
    )  # fmt: skip
    page, drawn = drew(vm, NOW + timedelta(seconds=20))
    assert drawn and 'class="vmq-incident"' in page["charts"]["cpu_svg"]
    assert not drew(vm, NOW + timedelta(seconds=30))[1]
    incident.ended_at, incident.end_reason = NOW - timedelta(minutes=10), "recovered"
    incident.save()
    assert drew(vm, NOW + timedelta(seconds=30))[1]

    # a new policy version in force: other thresholds drawn
    newer = factories.seed_policy(
        effective_from=NOW - timedelta(days=1),
        rules=[{"metric": "cpu_percent", "threshold": 80, "duration": timedelta(minutes=30),
                "action": "alert", "mode": "enforce"}],
    )  # fmt: skip
    page, drawn = drew(vm, NOW + timedelta(seconds=30))
    assert drawn and page["version"] == newer and "≥ 80" in page["charts"]["cpu_svg"]

    # a late sample inside the window shows from the next minute on (the window moves anyway)
    store([(vm.pk, NOW - timedelta(minutes=30, seconds=30), 77.0, 10.0)])
    assert not drew(vm, NOW + timedelta(seconds=40))[1]
    page, drawn = drew(vm, NOW + timedelta(minutes=1))
    assert drawn and 77.0 in [c for _, c, _ in page["charts"]["rows"]]


class BrokenCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("redis is down")

    set = get


def test_a_failing_cache_only_costs_the_drawing(vm, monkeypatch, caplog):
    store([(vm.pk, NOW - timedelta(minutes=m), 50.0, 10.0) for m in range(1, 30)])
    expected = selectors.vm_page(vm, now=NOW)["charts"]
    monkeypatch.setattr(selectors, "cache", BrokenCache())
    page, drawn = drew(vm, NOW)
    assert drawn and page["charts"] == expected
    assert "chart cache is unavailable" in caplog.text


# --- the text table's rows are formatted in Python, exactly as the template's filters did -----


# from a millionth up: below that floatformat shows Python's own repr (1.1e-308), an artefact the
# table need not copy
@settings(max_examples=500, deadline=None)
@given(st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e9)))
@example(0.25)  # a half: floatformat rounds it up, Python's own rounding would give 0.2
@example(12.04)  # not whole: one decimal even when it is zero
@example(12.0)
@example(23040.0)
@example(99.95)
@example(1e16)
def test_one_decimal_is_what_floatformat_minus_one_shows(value):
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    from vmquota.chart import one_decimal

    with translation.override("zh-hant"):
        assert one_decimal(value) == floatformat(value, "-1")


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
@example(datetime(2019, 9, 10, 1, 55, tzinfo=UTC))  # 09:55 in Taipei
@example(datetime(2019, 9, 9, 16, 0, tzinfo=UTC))  # the next day in Taipei
@settings(max_examples=200, deadline=None)
def test_the_table_rows_times_are_what_roc_datetime_short_shows(moment):
    from portal.templatetags.roc import roc_datetime_short
    from vmquota.chart import table_rows

    [(shown, cpu, net)] = table_rows([(moment, 99.5, 23040.0)])
    assert shown == roc_datetime_short(moment)
    assert (cpu, net) == ("99.5", "23040")
