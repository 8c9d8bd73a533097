"""The evaluation semantics, as pure functions: samples + rules → incidents. No database here.

The exact semantics (also in docs/vmquota.md):
- a sample meets a rule when `value >= threshold`;
- a *streak* is a maximal run of consecutive samples of one VM (ordered by timestamp) that all
  meet the rule, with no gap between neighbouring samples larger than `max_gap`;
- the rule *fires* at the first sample of a streak whose timestamp is ≥ `duration` after the
  streak's first sample (one sample a minute: the 31st sample for 30 minutes);
- the incident *ends* at the first sample below the threshold (`recovered`), or, when a gap
  larger than `max_gap` follows, at the streak's last sample + `max_gap` (`no_data`);
- a rule only sees samples in its version's window [effective_from, effective_until);
- two samples of one VM with the same timestamp: the first one received counts, the other is
  ignored (the database keeps the first through its unique index).

`VmEvaluator.feed()` is the one step function; replay folds it over sorted samples and the live
path (services.evaluate_cycle) feeds it the new samples with its state loaded from the database,
so both give the same incidents by construction. A streak that has not fired yet is not an
incident; only fired streaks are reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

METRIC_INDEX = {"cpu_percent": 0, "net_kbps": 1}
DEFAULT_MAX_GAP = timedelta(minutes=5)


@dataclass(frozen=True)
class RuleSpec:
    key: Any
    metric: str
    threshold: float
    duration: timedelta
    action: str
    mode: str = "enforce"
    effective_from: datetime | None = None
    effective_until: datetime | None = None

    def applies_at(self, ts):
        if self.effective_from is not None and ts < self.effective_from:
            return False
        return self.effective_until is None or ts < self.effective_until


# The seed minutes' four rules (108-09 捌、二、(四)); KB = 1024 bytes.
SEED_RULES = (
    ("cpu_percent", 95.0, "alert"),
    ("cpu_percent", 100.0, "suspend"),
    ("net_kbps", 23040.0, "alert"),
    ("net_kbps", 25600.0, "suspend"),
)


def seed_rule_specs():
    return [
        RuleSpec(key=i, metric=m, threshold=t, duration=timedelta(minutes=30), action=a)
        for i, (m, t, a) in enumerate(SEED_RULES)
    ]


@dataclass
class Streak:
    start: datetime
    start_value: float
    fired_at: datetime | None = None
    fired_value: float | None = None


@dataclass(frozen=True)
class Event:
    kind: str  # "fired" | "ended"
    rule: RuleSpec
    streak_start: datetime
    at: datetime
    value: float | None = None  # fired: the firing sample's value
    start_value: float | None = None
    end_reason: str = ""
    last_sample_at: datetime | None = None


@dataclass
class Incident:
    vm: Any
    rule: RuleSpec
    streak_start: datetime
    fired_at: datetime
    first_value: float
    fired_value: float
    ended_at: datetime | None = None
    end_reason: str | None = None
    last_sample_at: datetime | None = None

    def key(self):
        return (self.vm, self.rule.key, self.streak_start)


class LateSample(ValueError):
    """A sample at or before the evaluator's last timestamp: the caller must rewind."""


@dataclass
class VmEvaluator:
    """The state of one VM against a list of rules: its last sample's time and open streaks."""

    rules: list[RuleSpec]
    max_gap: timedelta = DEFAULT_MAX_GAP
    last_ts: datetime | None = None
    streaks: dict = field(default_factory=dict)  # rule key → Streak

    def feed(self, ts, cpu_percent, net_kbps):
        """Process one sample in timestamp order; returns the events it causes."""
        last = self.last_ts
        if last is not None and ts <= last:
            raise LateSample(ts)
        events = []
        values = (cpu_percent, net_kbps)
        streaks = self.streaks
        for rule in self.rules:
            if not rule.applies_at(ts):
                continue
            streak = streaks.get(rule.key)
            if streak is not None and ts - last > self.max_gap:
                # the gap ends the streak where the data stopped being trustworthy
                del streaks[rule.key]
                if streak.fired_at is not None:
                    events.append(
                        Event("ended", rule, streak.start, last + self.max_gap,
                              end_reason="no_data", last_sample_at=last)
                    )  # fmt: skip
                streak = None
            value = values[METRIC_INDEX[rule.metric]]
            if value >= rule.threshold:
                if streak is None:
                    streak = streaks[rule.key] = Streak(ts, value)
                if streak.fired_at is None and ts - streak.start >= rule.duration:
                    streak.fired_at, streak.fired_value = ts, value
                    events.append(
                        Event("fired", rule, streak.start, ts, value=value,
                              start_value=streak.start_value)
                    )  # fmt: skip
            elif streak is not None:
                del streaks[rule.key]
                if streak.fired_at is not None:
                    events.append(
                        Event("ended", rule, streak.start, ts, value=value,
                              end_reason="recovered", last_sample_at=last)
                    )  # fmt: skip
        self.last_ts = ts
        return events

    def close_stale(self, as_of):
        """End the streaks whose data stopped more than max_gap before `as_of` (no_data)."""
        if self.last_ts is None or as_of - self.last_ts <= self.max_gap:
            return []
        events = []
        for rule in self.rules:
            streak = self.streaks.pop(rule.key, None)
            if streak is not None and streak.fired_at is not None:
                events.append(
                    Event("ended", rule, streak.start, self.last_ts + self.max_gap,
                          end_reason="no_data", last_sample_at=self.last_ts)
                )  # fmt: skip
        return events


def dedupe_sorted(samples):
    """(ts, cpu, net) in arrival order → sorted by ts, the first of each timestamp kept."""
    seen = {}
    for sample in samples:
        seen.setdefault(sample[0], sample)
    return [seen[ts] for ts in sorted(seen)]


def apply_events(incidents, vm, events):
    """Fold events into the incident list (open incidents indexed by rule key)."""
    open_by_rule = incidents.setdefault("_open", {})
    for ev in events:
        if ev.kind == "fired":
            inc = Incident(vm, ev.rule, ev.streak_start, ev.at, ev.start_value, ev.value)
            incidents.setdefault("all", []).append(inc)
            open_by_rule[(vm, ev.rule.key)] = inc
        else:
            inc = open_by_rule.pop((vm, ev.rule.key))
            inc.ended_at, inc.end_reason, inc.last_sample_at = (
                ev.at,
                ev.end_reason,
                ev.last_sample_at,
            )


def replay(samples: Iterable, rules, max_gap=DEFAULT_MAX_GAP, as_of=None):
    """samples: (vm, ts, cpu_percent, net_kbps) in any order (arrival order decides duplicates).
    Returns the incidents, sorted by VM, streak start and rule; open ones have ended_at None.
    With `as_of`, streaks whose data stopped more than max_gap before it end as no_data."""
    by_vm = {}
    for vm, ts, cpu, net in samples:
        by_vm.setdefault(vm, []).append((ts, cpu, net))
    acc = {}
    for vm, vm_samples in by_vm.items():
        ev = VmEvaluator(list(rules), max_gap)
        for ts, cpu, net in dedupe_sorted(vm_samples):
            events = ev.feed(ts, cpu, net)
            if events:
                apply_events(acc, vm, events)
        if as_of is not None:
            apply_events(acc, vm, ev.close_stale(as_of))
    result = acc.get("all", [])
    order = {r.key: i for i, r in enumerate(rules)}
    result.sort(key=lambda i: (str(i.vm), i.streak_start, order[i.rule.key]))
    return result


def incident_json(inc, tz, iso=None):
    """The incident as the replay prints it; `iso(dt)` may stand in for the formatting of a
    time in tz (a replay formats each distinct time once)."""
    if iso is None:

        def iso(dt):
            return dt.astimezone(tz).isoformat() if dt is not None else None

    threshold = inc.rule.threshold
    return {
        "vm": str(inc.vm),
        "metric": inc.rule.metric,
        "threshold": int(threshold) if float(threshold).is_integer() else threshold,
        "action": inc.rule.action,
        "streak_start": iso(inc.streak_start),
        "fired_at": iso(inc.fired_at),
        "ended_at": iso(inc.ended_at),
        "end_reason": inc.end_reason,
    }
