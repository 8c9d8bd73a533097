"""The streak semantics of `evaluation.py`, folded over whole columns at once (numpy): what the
what-if needs to replay a month of the whole room without a Python step per sample.

Input: samples sorted by (vm, ts), one per (vm, ts) – what the unique index gives, read in index
order – as columns: vm ids, times in integer microseconds (exact, so every comparison with
`max_gap` and `duration` is the same as with datetimes), CPU and network values. The columns must
hold every sample of each VM they hold (a VM is never split between two calls).

`evaluation.replay` stays the definition; `tests/vmquota/test_whatif_fold.py` holds this to it on
random traces. Per rule, with `m` = the sample meets the rule (and the rule applies at its time):
- a streak starts at a meeting sample whose predecessor (same VM) does not meet, or is more than
  `max_gap` before it, or does not exist;
- it ends at its last meeting sample before such a break; it fired when that last sample is
  ≥ `duration` after its first, at the first sample that far from its start;
- it ended `recovered` at the next sample when that one is within `max_gap` (so it does not
  meet), `no_data` at last + `max_gap` when the next is further away, and is open when there is
  no next sample, or the next is past the rule's window (`feed` then skips the rule).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime, timedelta

import numpy as np

from . import evaluation

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
# PostgreSQL's binary COPY sends timestamptz as microseconds since 2000-01-01 UTC
PG_EPOCH_US = (datetime(2000, 1, 1, tzinfo=UTC) - EPOCH) // US
NO_LIMIT_LOW, NO_LIMIT_HIGH = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def to_us(ts):
    return (ts - EPOCH) // US


def from_us(us):
    return EPOCH + timedelta(microseconds=us)


def _window_us(rule):
    low = NO_LIMIT_LOW if rule.effective_from is None else to_us(rule.effective_from)
    high = NO_LIMIT_HIGH if rule.effective_until is None else to_us(rule.effective_until)
    return low, high


class Columns:
    """Sorted samples as arrays, with what every rule's fold shares: where a new VM starts and
    where the gap to the previous sample breaks a streak."""

    def __init__(self, vm, ts_us, cpu, net, max_gap):
        self.vm = np.asarray(vm, dtype=np.int64)
        self.ts = np.asarray(ts_us, dtype=np.int64)
        self.values = (np.asarray(cpu, dtype=np.float64), np.asarray(net, dtype=np.float64))
        self.max_gap = max_gap // US
        n = len(self.ts)
        # brk[i]: sample i cannot continue a streak of sample i − 1
        brk = np.ones(n, dtype=bool)
        if n > 1:
            brk[1:] = (self.vm[1:] != self.vm[:-1]) | (self.ts[1:] - self.ts[:-1] > self.max_gap)
        self.brk = brk

    def __len__(self):
        return len(self.ts)

    def vm_ids(self):
        return np.unique(self.vm).tolist()

    def streaks(self, rule):
        """(start index, last index) arrays of the rule's streaks, and `m`."""
        low, high = _window_us(rule)
        ts = self.ts
        m = self.values[evaluation.METRIC_INDEX[rule.metric]] >= rule.threshold
        if low != NO_LIMIT_LOW or high != NO_LIMIT_HIGH:
            m &= (ts >= low) & (ts < high)
        n = len(m)
        prev_m = np.zeros(n, dtype=bool)
        prev_m[1:] = m[:-1]
        starts = np.flatnonzero(m & (~prev_m | self.brk))
        next_m = np.zeros(n, dtype=bool)
        next_m[:-1] = m[1:] & ~self.brk[1:]
        lasts = np.flatnonzero(m & ~next_m)
        return starts, lasts

    def fired_counts(self, rule):
        """How many streaks of the rule fired: the what-if's count, per VM id ({vm: n})."""
        starts, lasts = self.streaks(rule)
        fired = (self.ts[lasts] - self.ts[starts]) >= rule.duration // US
        vms, counts = np.unique(self.vm[starts[fired]], return_counts=True)
        return dict(zip(vms.tolist(), counts.tolist(), strict=True))

    def incidents(self, rule):
        """The rule's incidents as `evaluation.Incident`s (times in UTC)."""
        starts, lasts = self.streaks(rule)
        ts = self.ts
        duration = rule.duration // US
        fired = (ts[lasts] - ts[starts]) >= duration
        starts, lasts = starts[fired].tolist(), lasts[fired].tolist()
        if not starts:
            return []
        # plain lists from here: a few numbers per incident, where numpy's scalars cost more
        tsl, vml = ts.tolist(), self.vm.tolist()
        values = self.values[evaluation.METRIC_INDEX[rule.metric]].tolist()
        _, high = _window_us(rule)
        n, max_gap = len(tsl), self.max_gap
        out = []
        for s, e in zip(starts, lasts, strict=True):
            f = bisect_left(tsl, tsl[s] + duration, s, e + 1)
            inc = evaluation.Incident(
                vml[s], rule, from_us(tsl[s]), from_us(tsl[f]), values[s], values[f]
            )
            nxt = e + 1
            if nxt < n and vml[nxt] == vml[e] and tsl[nxt] < high:
                inc.last_sample_at = from_us(tsl[e])
                if tsl[nxt] - tsl[e] > max_gap:
                    inc.ended_at, inc.end_reason = from_us(tsl[e] + max_gap), "no_data"
                else:
                    inc.ended_at, inc.end_reason = from_us(tsl[nxt]), "recovered"
            out.append(inc)
        return out


def replay_columns(columns, rules):
    """All incidents of the rules, sorted as `evaluation.replay` sorts them."""
    result = [inc for rule in rules for inc in columns.incidents(rule)]
    order = {r.key: i for i, r in enumerate(rules)}
    result.sort(key=lambda i: (str(i.vm), i.streak_start, order[i.rule.key]))
    return result


# One row of PostgreSQL's binary COPY of (vm_id bigint, ts timestamptz, float8, float8): the field
# count, then each field's length and value, all big-endian – a fixed width, as no column is NULL.
COPY_ROW = np.dtype(
    [("n", ">i2"), ("l0", ">i4"), ("vm", ">i8"), ("l1", ">i4"), ("ts", ">i8"),
     ("l2", ">i4"), ("cpu", ">f8"), ("l3", ">i4"), ("net", ">f8")]
)  # fmt: skip
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"


def columns_from_copy(data, max_gap):
    """Columns from the bytes of `COPY (SELECT vm_id, ts, cpu_percent, net_kbps …) TO STDOUT
    (FORMAT binary)`."""
    data = memoryview(data)
    if data[: len(COPY_HEADER)] != COPY_HEADER:
        raise ValueError("not a binary COPY")
    ext = int.from_bytes(data[15:19], "big")
    body = data[19 + ext : len(data) - 2]  # the trailer is the field count −1
    if len(body) % COPY_ROW.itemsize:
        raise ValueError("binary COPY rows of unexpected width")
    rows = np.frombuffer(body, dtype=COPY_ROW)
    if len(rows) and not (
        (rows["n"] == 4).all()
        and (rows["l0"] == 8).all()
        and (rows["l1"] == 8).all()
        and (rows["l2"] == 8).all()
        and (rows["l3"] == 8).all()
    ):
        raise ValueError("binary COPY rows of unexpected shape")
    return Columns(rows["vm"], rows["ts"] + PG_EPOCH_US, rows["cpu"], rows["net"], max_gap)
