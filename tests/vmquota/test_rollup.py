"""The 5-minute rollup equals the maxima of the stored samples, however they arrived: fresh
batches (COPY on PostgreSQL), repeats with other values (refused: the first received wins, and
must not raise a maximum), repeats mixed with new samples; and the coarser periods of the 7- and
30-day charts equal the raw maxima over those periods."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vmquota import factories
from vmquota import rollup, selectors
from vmquota.ingest import store
from vmquota.models import SampleRollup, UsageSample, VirtualMachine

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 30, 15, 57, 30, tzinfo=UTC)

sample = st.tuples(
    st.sampled_from([0, 1]),
    st.integers(0, 600),  # minutes
    st.sampled_from([0, 30, 59]),  # seconds: buckets' edges fall between samples too
    st.floats(0, 100, allow_nan=False),
    st.sampled_from([0.0, 100.0, 23040.0, 25600.5]),
)
batches = st.lists(st.lists(sample, min_size=1, max_size=30), min_size=1, max_size=5)


def table(vm):
    return sorted(
        ((vm.pk, b), (c, n))
        for b, c, n in SampleRollup.objects.filter(vm=vm).values_list(
            "bucket", "cpu_max", "net_max"
        )
    )


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(batches=batches)
def test_the_rollup_equals_the_raw_maxima(xindian_school, batches):
    SampleRollup.objects.all().delete()
    UsageSample.objects.all().delete()
    VirtualMachine.objects.all().delete()
    vms = [factories.vm(f"r{i}", xindian_school) for i in (0, 1)]
    for batch in batches:
        rows = [(vms[v].pk, T0 + timedelta(minutes=m, seconds=s), c, n) for v, m, s, c, n in batch]
        store(rows)
        store(rows[: len(rows) // 2])  # a resend: nothing new
        # a repeat with higher values: refused, and so must not raise the maxima
        store([(v, ts, 100.0, 99999.0) for v, ts, _, _ in rows[:3]])
    end = T0 + timedelta(days=1)
    for vm in vms:
        assert table(vm) == rollup.raw_maxima(vm, T0 - timedelta(hours=1), end)
        for step in (rollup.BUCKET, timedelta(minutes=30), timedelta(hours=2)):
            periods = {}
            for (_, b), (c, n) in rollup.raw_maxima(vm, T0 - timedelta(hours=1), end):
                key = rollup.EPOCH + (b - rollup.EPOCH) // step * step
                old = periods.get(key, (c, n))
                periods[key] = (max(old[0], c), max(old[1], n))
            assert rollup.maxima(vm, T0 - timedelta(hours=1), end, step) == [
                (k, c, n) for k, (c, n) in sorted(periods.items())
            ]


def test_buckets_are_on_the_clock():
    assert rollup.bucket_of(datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)) == datetime(
        2026, 11, 30, 15, 55, tzinfo=UTC
    )
    assert rollup.bucket_of(datetime(2026, 11, 30, 16, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 16, 0, tzinfo=UTC
    )


def test_minutes_over_each_threshold_are_counted_from_the_samples(xindian_school):
    vm = factories.vm("m0", xindian_school)
    version = factories.seed_policy()
    rules = list(version.rules.all())
    rows = [(vm.pk, T0 + timedelta(minutes=m), 96.0 if m < 10 else (100.0 if m < 13 else 5.0),
             26000.0 if m == 20 else 0.0) for m in range(40)]  # fmt: skip
    store(rows)
    got = rollup.minutes_over(vm, rules, T0, T0 + timedelta(hours=1))
    by = {(r.metric, r.threshold): got[r.pk] for r in rules}
    assert by == {("cpu_percent", 95.0): 13, ("cpu_percent", 100.0): 3,
                  ("net_kbps", 23040.0): 1, ("net_kbps", 25600.0): 1}  # fmt: skip


def test_the_week_and_month_pages_read_the_rollup_and_count_this_months_minutes(
    login, coordinator, other_coordinator, xindian_school
):
    from django.utils import timezone

    vm = factories.vm("xd-hist", xindian_school)
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=40))
    now = timezone.now().replace(second=0, microsecond=0)
    store([(vm.pk, now - timedelta(minutes=m), 97.0 if m < 12 else 5.0, 100.0) for m in range(60)])
    for days, periods in ((7, 2), (30, 1)):  # 60 minutes: two 30-minute periods or one of 2 h
        history = selectors.vm_history(vm, days)
        assert history["rows"] in (periods, periods + 1)  # the hour may straddle a period edge
        page = login(coordinator).get(f"/vmquota/vms/{vm.pk}/history/?days={days}")
        text = page.content.decode()
        assert page.status_code == 200 and f"最近 {days} 天" in text and "<svg" in text
    this_month = timezone.localtime(now).day > 1 or timezone.localtime(now).hour >= 1
    if this_month:  # all 60 minutes fall in this month unless the month began within the hour
        assert '<td data-label="本月達到的分鐘數">12</td>' in text
    assert login(other_coordinator).get(f"/vmquota/vms/{vm.pk}/history/").status_code == 403
    assert login(coordinator).get(f"/vmquota/vms/{vm.pk}/history/?days=9").status_code == 400
    assert (
        f"/vmquota/vms/{vm.pk}/history/?days=30"
        in login(coordinator).get(f"/vmquota/vms/{vm.pk}/").content.decode()
    )
