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
        self._sort_key = None

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

    def _key(self):
        """A number per sample that grows along the sorted columns (VM, then time), for
        searching a time within one VM; None when it would not fit in 64 bits."""
        if self._sort_key is None and len(self.ts):
            self._sort_key = sort_key(self.vm, self.ts)
        return self._sort_key

    def incidents(self, rule):
        """The rule's incidents as `evaluation.Incident`s (times in UTC)."""
        starts, lasts = self.streaks(rule)
        ts, vm = self.ts, self.vm
        duration = rule.duration // US
        fired = (ts[lasts] - ts[starts]) >= duration
        starts, lasts = starts[fired], lasts[fired]
        if not len(starts):
            return []
        key = self._key()
        if key is not None:  # the first sample of the streak at least `duration` after its start
            firing = np.searchsorted(key, key[starts] + duration, side="left")
        else:
            tsl = ts.tolist()
            firing = np.array(
                [bisect_left(tsl, tsl[s] + duration, s, e + 1) for s, e in zip(starts.tolist(),
                 lasts.tolist(), strict=True)], dtype=np.int64,
            )  # fmt: skip
        values = self.values[evaluation.METRIC_INDEX[rule.metric]]
        _, high = _window_us(rule)
        n = len(ts)
        nxt = np.minimum(lasts + 1, n - 1)
        ended = (lasts + 1 < n) & (vm[nxt] == vm[lasts]) & (ts[nxt] < high)
        no_data = ended & (ts[nxt] - ts[lasts] > self.max_gap)
        end_us = np.where(no_data, ts[lasts] + self.max_gap, ts[nxt])
        # plain numbers from here, and one datetime per distinct time: a trace repeats its times
        at = {}

        def when(us):
            dt = at.get(us)
            if dt is None:
                dt = at[us] = from_us(us)
            return dt

        out = []
        for v, s, f, first, fired_value, e, nd, last, end in zip(
            vm[starts].tolist(), ts[starts].tolist(), ts[firing].tolist(),
            values[starts].tolist(), values[firing].tolist(), ended.tolist(),
            no_data.tolist(), ts[lasts].tolist(), end_us.tolist(), strict=True,
        ):  # fmt: skip
            inc = evaluation.Incident(v, rule, when(s), when(f), first, fired_value)
            if e:
                inc.last_sample_at, inc.ended_at = when(last), when(end)
                inc.end_reason = "no_data" if nd else "recovered"
            out.append(inc)
        return out


def sort_key(vm, ts):
    """vm · (span of times + 1) + (ts − first time): orders samples by (vm, ts) in one int64,
    or None when the VM ids and the span of times are too large for that."""
    span = int(ts.max()) - int(ts.min()) + 1
    low, high = int(vm.min()), int(vm.max())
    if low < 0 or (high + 1) * span >= 2**62:
        return None
    return vm * span + (ts - ts.min())


def sort_order(vm, ts):
    """The stable order of samples by (vm, ts): of two at one (vm, ts) the first stays first."""
    if not len(ts):
        return np.arange(0)
    if (ts[1:] >= ts[:-1]).all() and vm.min() >= 0 and vm.max() < 2**16:
        # already in time order, as collectors send: a stable sort by VM alone (a radix sort)
        return np.argsort(vm.astype(np.uint16), kind="stable")
    key = sort_key(vm, ts)
    if key is None:
        return np.lexsort((ts, vm))
    return np.argsort(key, kind="stable")


def replay_columns(columns, rules, names=None):
    """All incidents of the rules, sorted as `evaluation.replay` sorts them; with `names`, each
    incident's VM is its name (names[vm id])."""
    result = [inc for rule in rules for inc in columns.incidents(rule)]
    if names is not None:
        for inc in result:
            inc.vm = names[inc.vm]
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
