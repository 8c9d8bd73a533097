"""The live evaluator (incremental, state in the database) against replay from scratch."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.vmquota import factories
from tests.vmquota.traces import at
from vmquota import evaluation
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import Action, Incident, StreakState, UsageSample, VirtualMachine
from vmquota.policy import rule_specs

pytestmark = pytest.mark.django_db


def feed(batches, vm_ids):
    for batch in batches:
        store([(vm_ids[v], at(m), c, n) for v, m, c, n in batch])
        # the cycle's clock before the samples: no time-based no_data closing here (tested apart)
        evaluate_cycle(now=at(0))


def db_incidents():
    return sorted(
        (i.vm.name, i.rule_id, i.streak_start, i.fired_at, i.ended_at, i.end_reason or None)
        for i in Incident.objects.filter(withdrawn_at__isnull=True).select_related("vm")
    )


def replay_incidents(version, samples):
    incs = evaluation.replay(
        [(v, at(m), c, n) for v, m, c, n in samples], rule_specs(version), version.max_gap
    )
    return sorted(
        (i.vm, i.rule.key, i.streak_start, i.fired_at, i.ended_at, i.end_reason) for i in incs
    )


@pytest.mark.slow
def test_pegged_vm_fires_once_and_creates_one_alert_folded_into_one_suspend(xindian_school):
    factories.seed_policy()
    vm = factories.vm("xd-web", xindian_school)
    for minute in range(31):
        store([(vm.pk, at(minute), 100.0, 10.0)])
        evaluate_cycle(now=at(minute))
        evaluate_cycle(now=at(minute))  # running twice changes nothing
    assert Incident.objects.count() == 2
    kinds = dict(Action.objects.values_list("kind", "status"))
    # eager tasks: the suspend ran (dry-run or libvirt test driver) and the alert was folded in
    assert kinds["alert"] == "folded"
    assert Action.objects.filter(kind="suspend").count() == 1


def test_streak_state_is_kept_only_while_a_streak_is_open(xindian_school):
    version = factories.seed_policy(rules=[
        {"metric": "cpu_percent", "threshold": 95, "duration": timedelta(minutes=30),
         "action": "alert", "mode": "observe"}])  # fmt: skip
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, at(m), 97.0, 0.0) for m in range(10)])
    evaluate_cycle(now=at(10))
    state = StreakState.objects.get()
    assert (state.start_ts, state.fired_at, state.rule.version) == (at(0), None, version)
    store([(vm.pk, at(10), 3.0, 0.0)])
    evaluate_cycle(now=at(10))
    assert not StreakState.objects.exists()
    assert VirtualMachine.objects.get().last_sample_at == at(10)


def test_observe_mode_records_the_incident_and_does_nothing_else(xindian_school):
    factories.seed_policy(mode="observe")
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, at(m), 100.0, 0.0) for m in range(31)])
    evaluate_cycle(now=at(31))
    assert Incident.objects.filter(observe_only=True).count() == 2
    assert not Action.objects.exists()


def test_no_data_for_longer_than_max_gap_ends_the_incident_without_a_resolved_mail(
    xindian_school, mailoutbox, django_capture_on_commit_callbacks
):
    factories.seed_policy(rules=[
        {"metric": "cpu_percent", "threshold": 95, "duration": timedelta(minutes=30),
         "action": "alert", "mode": "enforce"}])  # fmt: skip
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, at(m), 97.0, 0.0) for m in range(31)])
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_cycle(now=at(31))
    assert len(mailoutbox) == 1
    evaluate_cycle(now=at(30) + timedelta(minutes=5, seconds=119))  # within max_gap + grace
    assert Incident.objects.get().ended_at is None
    evaluate_cycle(now=at(30) + timedelta(minutes=7, seconds=1))
    incident = Incident.objects.get()
    assert (incident.ended_at, incident.end_reason) == (at(35), "no_data")
    assert len(mailoutbox) == 1
    # a delayed sample that continues the streak reopens it, as a replay would
    store([(vm.pk, at(33), 97.0, 0.0)])
    evaluate_cycle(now=at(40))
    assert Incident.objects.get().ended_at is None


def test_a_late_dip_splits_a_streak_and_withdraws_the_incident(xindian_school):
    version = factories.seed_policy(mode="observe")
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, at(m), 100.0, 0.0) for m in range(31) if m != 15])
    evaluate_cycle(now=at(31))
    assert Incident.objects.filter(withdrawn_at__isnull=True).count() == 2
    store([(vm.pk, at(15), 1.0, 0.0)])
    evaluate_cycle(now=at(31))
    assert Incident.objects.filter(withdrawn_at__isnull=True).count() == 0
    samples = [("xd-web", m, 100.0 if m != 15 else 1.0, 0.0) for m in range(31)]
    assert db_incidents() == replay_incidents(version, samples) == []


sample = st.tuples(
    st.sampled_from(["vm-a", "vm-b"]),
    st.integers(min_value=0, max_value=30),
    st.sampled_from([0.0, 95.0, 100.0, 100.0, 100.0]),  # biased upwards: streaks must happen
    st.sampled_from([0.0, 23040.0, 30000.0]),
)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    samples=st.lists(sample, min_size=1, max_size=80), cuts=st.lists(st.integers(0, 80), max_size=6)
)
@example(  # a late dip inside a fired streak, then a late sample bridging a gap
    samples=[("vm-a", m, 100.0, 0.0) for m in (0, 1, 2, 3, 4, 8, 9, 10, 11)]
    + [("vm-a", 2, 0.0, 0.0), ("vm-a", 6, 100.0, 0.0), ("vm-a", 0, 0.0, 0.0)],
    cuts=[9, 10, 11],
)
def test_live_evaluation_equals_replay_with_late_and_duplicate_samples(
    xindian_school, samples, cuts
):
    """Any arrival order, any batching, duplicates (first received wins): the same incidents."""
    Incident.objects.all().delete()
    Action.objects.all().delete()
    StreakState.objects.all().delete()
    UsageSample.objects.all().delete()
    VirtualMachine.objects.all().delete()
    from vmquota.models import EvaluationCursor, PolicyVersion

    EvaluationCursor.objects.all().delete()
    if not PolicyVersion.objects.exists():
        factories.seed_policy(minutes=3, max_gap=2, mode="observe")
    version = PolicyVersion.objects.get()
    vm_ids = {name: factories.vm(name, xindian_school).pk for name in ("vm-a", "vm-b")}
    bounds = sorted({c for c in cuts if 0 < c < len(samples)})
    batches = [samples[a:b] for a, b in zip([0, *bounds], [*bounds, len(samples)], strict=True)]
    feed([b for b in batches if b], vm_ids)
    assert db_incidents() == replay_incidents(version, samples)
