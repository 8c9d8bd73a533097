"""The 100 000-VM feed's pacing and lag helpers (bench/bench_feed.py): not its timings."""

import random

from bench.bench_feed import evaluated_at, percentile, sample_values, send_plan


def test_a_minute_sends_every_host_once_spread_evenly():
    plan = send_plan(200)
    assert len(plan) == 200
    assert sorted(h for _, _, h in plan) == list(range(200))
    assert {k for _, k, _ in plan} == {0}
    gaps = {round(b[0] - a[0], 9) for a, b in zip(plan, plan[1:], strict=False)}
    assert gaps == {0.3}
    assert plan[0][0] == 0 and plan[-1][0] < 60


def test_a_faster_feed_sends_each_sample_minute_of_every_host():
    plan = send_plan(3, speed=2)
    assert [(k, h) for _, k, h in plan] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert plan[-1][0] == 50


def test_hot_vms_cross_the_alert_rules_and_the_rest_stay_under():
    rng = random.Random(1)
    assert sample_values(0, 3, rng)[0] >= 95
    assert sample_values(1, 2, rng)[0] >= 95 and sample_values(1, 3, rng)[0] < 95
    assert sample_values(2, 0, rng)[1] >= 23_040
    assert all(sample_values(i, 0, rng)[0] < 95 for i in range(3, 100))


def test_a_sample_is_evaluated_at_the_first_poll_past_it():
    times, positions = [10.0, 10.5, 11.0], [0, 100, 250]
    assert evaluated_at(times, positions, 100) == 10.5
    assert evaluated_at(times, positions, 101) == 11.0
    assert evaluated_at(times, positions, 251) is None


def test_percentile_of_one_and_of_many():
    assert percentile([7.0], 50) == 7.0
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([1, 2, 3, 4, 5], 100) == 5
