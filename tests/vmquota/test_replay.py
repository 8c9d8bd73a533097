"""vmquota_replay on hand-made traces of the seed's four rules: the exact semantics of "≥ T for D"."""

import json

import pytest
from django.core.management import call_command

from tests.vmquota.traces import csv_text, iso


def replay(tmp_path, rows, *args):
    path = tmp_path / "trace.csv"
    path.write_text(csv_text(rows))
    from io import StringIO

    out = StringIO()
    call_command("vmquota_replay", str(path), "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def cpu(vm, values, start=0):
    return [(vm, start + i, v, 0) for i, v in enumerate(values)]


pytestmark = pytest.mark.django_db


def test_31_samples_exactly_at_100_fire_both_cpu_rules_at_the_31st(tmp_path):
    out = replay(tmp_path, cpu("vm-a", [100] * 31))
    assert out == [
        {"vm": "vm-a", "metric": "cpu_percent", "threshold": 95, "action": "alert",
         "streak_start": iso(0), "fired_at": iso(30), "ended_at": None, "end_reason": None},
        {"vm": "vm-a", "metric": "cpu_percent", "threshold": 100, "action": "suspend",
         "streak_start": iso(0), "fired_at": iso(30), "ended_at": None, "end_reason": None},
    ]  # fmt: skip


def test_30_samples_are_not_enough(tmp_path):
    assert replay(tmp_path, cpu("vm-a", [100] * 30)) == []


def test_exactly_at_the_thresholds_meets_them_and_just_below_does_not(tmp_path):
    rows = cpu("vm-a", [95] * 31) + cpu("vm-b", [94.99] * 40)
    rows += [("vm-c", m, 0, 23040) for m in range(31)] + [
        ("vm-d", m, 0, 25599.9) for m in range(31)
    ]
    out = replay(tmp_path, rows)
    assert [(i["vm"], i["metric"], i["threshold"], i["fired_at"]) for i in out] == [
        ("vm-a", "cpu_percent", 95, iso(30)),
        ("vm-c", "net_kbps", 23040, iso(30)),
        ("vm-d", "net_kbps", 23040, iso(30)),
    ]


def test_one_sample_dip_resets_the_streak_and_ends_an_incident_as_recovered(tmp_path):
    values = [100] * 20 + [50] + [100] * 31 + [10]
    out = replay(tmp_path, cpu("vm-a", values))
    # the first 20 minutes never fired; the second streak starts after the dip (minute 21)
    assert {(i["streak_start"], i["fired_at"], i["ended_at"], i["end_reason"]) for i in out} == {
        (iso(21), iso(51), iso(52), "recovered")
    }
    assert len(out) == 2  # alert and suspend rules


def test_a_gap_of_5_minutes_is_bridged(tmp_path):
    rows = cpu("vm-a", [97] * 10) + cpu("vm-a", [97] * 21, start=14)  # 9 → 14: 5 minutes apart
    out = replay(tmp_path, rows)
    assert [(i["streak_start"], i["fired_at"], i["ended_at"]) for i in out] == [
        (iso(0), iso(30), None)
    ]


def test_a_gap_of_6_minutes_ends_the_streak_as_no_data_at_last_sample_plus_max_gap(tmp_path):
    rows = cpu("vm-a", [97] * 31) + cpu("vm-a", [97] * 31, start=36)  # 30 → 36: 6 minutes apart
    out = replay(tmp_path, rows)
    assert [(i["streak_start"], i["fired_at"], i["ended_at"], i["end_reason"]) for i in out] == [
        (iso(0), iso(30), iso(35), "no_data"),
        (iso(36), iso(66), None, None),
    ]


def test_a_gap_before_the_streak_fired_just_restarts_it(tmp_path):
    rows = cpu("vm-a", [97] * 20) + cpu("vm-a", [97] * 31, start=26)
    out = replay(tmp_path, rows)
    assert [(i["streak_start"], i["fired_at"]) for i in out] == [(iso(26), iso(56))]


def test_out_of_order_input_and_duplicates_give_the_same_incidents(tmp_path):
    rows = cpu("vm-a", [100] * 31 + [0])
    shuffled = rows[::2] + rows[1::2][::-1]
    duplicate_first = [("vm-a", 31, 0, 0), ("vm-a", 31, 100, 0)]  # the first of a ts counts
    assert replay(tmp_path, shuffled) == replay(tmp_path, rows)
    assert replay(tmp_path, rows + duplicate_first) == replay(tmp_path, rows)


def test_several_vms_are_independent_and_sorted_by_vm(tmp_path):
    rows = cpu("vm-b", [100] * 31) + [("vm-a", m, 5, 26000) for m in range(35)]
    rows += cpu("vm-c", [100] * 15)
    out = replay(tmp_path, rows)
    assert [(i["vm"], i["metric"], i["action"]) for i in out] == [
        ("vm-a", "net_kbps", "alert"),
        ("vm-a", "net_kbps", "suspend"),
        ("vm-b", "cpu_percent", "alert"),
        ("vm-b", "cpu_percent", "suspend"),
    ]


def test_the_alert_can_fire_while_the_suspend_rule_never_does(tmp_path):
    out = replay(tmp_path, cpu("vm-a", [100, 99] * 20))
    assert [(i["threshold"], i["action"]) for i in out] == [(95, "alert")]


def test_uses_the_active_policy_version_when_there_is_one(tmp_path, bureau):
    from datetime import timedelta

    from tests.vmquota.traces import at
    from vmquota.policy import policy_version_create

    version = policy_version_create(
        actor=bureau, effective_from=at(-60), announcement="", max_gap=timedelta(minutes=5),
        rules=[{"metric": "cpu_percent", "threshold": 80, "duration": timedelta(minutes=10),
                "action": "alert", "mode": "enforce"}], publish=True,
    )  # fmt: skip
    out = replay(tmp_path, cpu("vm-a", [85] * 11), "--policy", str(version.pk))
    assert [(i["threshold"], i["fired_at"]) for i in out] == [(80, iso(10))]


def test_a_bad_trace_names_the_line(tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "t.csv"
    path.write_text("vm,ts,cpu_percent,net_kbps\nvm-a,2019-09-10T10:00:00,5,0\n")
    with pytest.raises(CommandError, match="第 2 行 ts"):
        call_command("vmquota_replay", str(path), "--json")
