"""The what-if's column fold equals `evaluation.replay` (the definition) on random traces, and
the what-if over stored samples counts what a replay of them counts, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vmquota import evaluation, whatif, whatif_fold

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
CPU = (0.0, 94.9, 95.0, 99.0, 100.0)
NET = (0.0, 23039.0, 23040.0, 25600.0)

# times a few seconds apart to an hour apart, so gaps fall on both sides of max_gap and its edge
step = st.sampled_from([1, 30, 59, 60, 61, 119, 120, 121, 180, 299, 300, 301, 600, 3600])
sample = st.tuples(st.sampled_from([1, 2, 3]), step, st.sampled_from(CPU), st.sampled_from(NET))


def trace(steps):
    """(vm, seconds since the VM's previous sample, cpu, net) → sorted (vm, ts, cpu, net)."""
    clock, out = {}, []
    for vm, secs, cpu, net in steps:
        clock[vm] = clock.get(vm, 0) + secs
        out.append((vm, T0 + timedelta(seconds=clock[vm]), cpu, net))
    return sorted(out, key=lambda s: (s[0], s[1]))


rules_st = st.lists(
    st.builds(
        lambda m, t, d, frm, until: (m, t, d, frm, until),
        st.sampled_from(["cpu_percent", "net_kbps"]),
        st.sampled_from([95.0, 100.0, 23040.0, 0.0]),
        st.sampled_from([0, 60, 120, 300, 1800]),
        st.sampled_from([None, 0, 600, 3000]),
        st.sampled_from([None, 1200, 5000]),
    ),
    min_size=1,
    max_size=4,
)


def specs_of(rules):
    def at(s):
        return None if s is None else T0 + timedelta(seconds=s)

    return [
        evaluation.RuleSpec(
            key=i, metric=m, threshold=t, duration=timedelta(seconds=d), action="alert",
            effective_from=at(frm), effective_until=at(until),
        )
        for i, (m, t, d, frm, until) in enumerate(rules)
    ]  # fmt: skip


def fields(inc):
    return (
        inc.vm, inc.rule.key, inc.streak_start, inc.fired_at, inc.first_value, inc.fired_value,
        inc.ended_at, inc.end_reason, inc.last_sample_at,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(sample, max_size=120), rules=rules_st, gap=st.sampled_from([60, 120, 300]))
@example(  # a streak bridged by a gap of exactly max_gap, then one just over it
    steps=[(1, 60, 100.0, 0.0)] * 3 + [(1, 300, 100.0, 0.0), (1, 301, 100.0, 0.0)],
    rules=[("cpu_percent", 95.0, 120, None, None)],
    gap=300,
)
def test_the_column_fold_equals_replay(steps, rules, gap):
    samples = trace(steps)
    specs, max_gap = specs_of(rules), timedelta(seconds=gap)
    expected = evaluation.replay(samples, specs, max_gap)
    columns = whatif_fold.Columns(
        [s[0] for s in samples], [whatif_fold.to_us(s[1]) for s in samples],
        [s[2] for s in samples], [s[3] for s in samples], max_gap,
    )  # fmt: skip
    assert [fields(i) for i in whatif_fold.replay_columns(columns, specs)] == [
        fields(i) for i in expected
    ]
    for rule in specs:
        counts = {}
        for inc in expected:
            if inc.rule.key == rule.key:
                counts[inc.vm] = counts.get(inc.vm, 0) + 1
        assert columns.fired_counts(rule) == counts


def test_an_empty_trace_has_no_incidents():
    columns = whatif_fold.Columns([], [], [], [], timedelta(minutes=5))
    assert whatif_fold.replay_columns(columns, evaluation.seed_rule_specs()) == []


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(sample, max_size=60), rules=rules_st)
def test_whatif_over_stored_samples_counts_what_a_replay_counts(xindian_school, steps, rules):
    """Through the database (a binary COPY on PostgreSQL), batch boundaries between VMs
    included, and a window [since, until) that cuts the trace."""
    from tests.vmquota import factories
    from vmquota.models import UsageSample, VirtualMachine

    UsageSample.objects.all().delete()
    VirtualMachine.objects.all().delete()
    ids = {k: factories.vm(f"vm-{k}", xindian_school if k != 3 else None).pk for k in (1, 2, 3)}
    samples = trace(steps)
    UsageSample.objects.bulk_create(
        UsageSample(vm_id=ids[vm], ts=ts, cpu_percent=c, net_kbps=n) for vm, ts, c, n in samples
    )
    since, until = T0 + timedelta(seconds=120), T0 + timedelta(hours=3)
    kept = [(ids[vm], ts, c, n) for vm, ts, c, n in samples if since <= ts < until]
    specs = specs_of(rules)
    draft = [evaluation.RuleSpec(f"d{r.key}", r.metric, r.threshold, r.duration, "suspend")
             for r in specs]  # fmt: skip
    max_gap = timedelta(minutes=5)
    old = whatif.VMS_PER_BATCH
    whatif.VMS_PER_BATCH = 2
    try:
        got = whatif.compare(specs, draft, max_gap, since, until)
    finally:
        whatif.VMS_PER_BATCH = old
    want = {}
    for vm_id in {s[0] for s in kept}:
        name = "新店國小" if vm_id != ids[3] else "（未指派學校）"
        row = want.setdefault(name, {"current": {}, "draft": {}})
        for label, rs in (("current", specs), ("draft", draft)):
            n = len(evaluation.replay([s for s in kept if s[0] == vm_id], rs, max_gap))
            action = rs[0].action
            if n:
                row[label][action] = row[label].get(action, 0) + n
    assert got["rows"] == [{"school": k, **v} for k, v in sorted(want.items())]
