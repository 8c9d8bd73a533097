"""Samples as text, without Django: the row checks every way in shares (the collector API, the
CSV upload, the replay) and the CSV reader. `ingest.py` adds what needs the database and the
settings (the accepted time window, the VMs, storing); `replay.py` needs only this and
`evaluation.py`, so a replay starts as fast as Python does."""

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime

FIELDS = ("vm", "ts", "cpu_percent", "net_kbps")
# No network interface a VM has moves this much (about 800 Gbit/s): a larger rate is no
# measurement, and refusing it keeps every sum and average the pages and charts compute finite.
MAX_NET_KBPS = 100_000_000.0


@dataclass
class RowError:
    index: int
    field: str
    message: str
    accepted: dict | None = None  # the range the field accepts, for a value outside it

    def as_dict(self):
        out = {"index": self.index, "field": self.field, "message": self.message}
        if self.accepted is not None:
            out["accepted"] = self.accepted
        return out


def parse_ts(value):
    """ISO 8601 with an explicit offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if ts.tzinfo is None or ts.utcoffset() is None:
        return None
    return ts


def number(value, *, from_text):
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif from_text and isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # OverflowError: an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def value_errors(index, cpu, net):
    """What is wrong with a sample's two values (numbers, or None for a value that is not one)."""
    errors = []
    if cpu is None or not 0 <= cpu <= 100:
        errors.append(RowError(
            index, "cpu_percent", "CPU 使用率必須是 0 到 100 的數字", {"from": 0, "to": 100}
        ))  # fmt: skip
    if net is None or not 0 <= net <= MAX_NET_KBPS:
        errors.append(RowError(
            index, "net_kbps", f"網路流量必須是 0 到 {MAX_NET_KBPS:.0f} 的數字（KB/s）",
            {"from": 0, "to": MAX_NET_KBPS},
        ))  # fmt: skip
    return errors


def row_check(index, row, from_text, time_errors=None):
    """One row: ((index, vm key, ts, cpu, net), []) when it can be stored, else (None, [RowError]).
    `time_errors(index, ts)`: what is wrong with the time beyond its form (the accepted window),
    or None to take any time (a replay of an old trace)."""
    if not isinstance(row, dict):
        return None, [RowError(index, "", "每一筆樣本必須是物件（vm, ts, cpu_percent, net_kbps）")]
    errors = []
    vm = row.get("vm")
    if not isinstance(vm, str) or not vm.strip():
        errors.append(RowError(index, "vm", "缺少虛擬機名稱或 UUID"))
    elif not vm.isprintable():  # no name has NUL, a control character or a lone surrogate,
        # and a query parameter cannot carry the first (PostgreSQL) or the last (UTF-8)
        errors.append(RowError(index, "vm", "虛擬機名稱含有控制字元或無效的字元"))
    ts = parse_ts(row.get("ts"))
    if ts is None:
        errors.append(
            RowError(index, "ts", "時間必須是含時區位移的 ISO 8601，例如 2019-09-10T10:00:00+08:00")
        )
    elif time_errors is not None:
        errors += time_errors(index, ts)
    cpu = number(row.get("cpu_percent"), from_text=from_text)
    net = number(row.get("net_kbps"), from_text=from_text)
    errors += value_errors(index, cpu, net)
    if errors:
        return None, errors
    return (index, vm.strip(), ts, cpu, net), []


def _reader(text):
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next((row for row in reader if row), [])  # as DictReader: blank lines before it
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise ValueError(f"CSV 缺少欄位：{', '.join(missing)}（需要 vm,ts,cpu_percent,net_kbps）")
    return header, reader


def read_csv(text):
    """A CSV with the header vm,ts,cpu_percent,net_kbps → list of dicts (strings), as
    csv.DictReader reads it (a short row's missing fields None, blank lines skipped)."""
    header, reader = _reader(text)
    return [_as_dict(header, row) for row in reader if row]


def _as_dict(header, row):
    out = dict(zip(header, row, strict=False))
    for name in header[len(row) :]:
        out[name] = None
    if len(row) > len(header):
        out[None] = row[len(header) :]
    return out


def read_trace(text):
    """The rows of a CSV trace, checked as `row_check(from_text=True)` checks them (any time):
    ([(vm, ts, cpu, net)], [RowError]). The same as read_csv + row_check, faster: each distinct
    time text is parsed once (a trace repeats every minute for every VM), and only a row that
    fails the quick checks goes through row_check, for its exact errors."""
    header, reader = _reader(text)
    # the last column of a repeated name, as a dict of the row keeps it
    iv, it, ic, inet = (max(i for i, h in enumerate(header) if h == f) for f in FIELDS)
    width = max(iv, it, ic, inet) + 1
    times = {}
    samples, errors = [], []
    index = -1
    for row in reader:
        if not row:
            continue
        index += 1
        try:
            if len(row) < width:
                raise ValueError
            vm, text_ts, cpu, net = row[iv].strip(), row[it], float(row[ic]), float(row[inet])
            ts = times.get(text_ts)
            if ts is None:
                ts = times[text_ts] = parse_ts(text_ts)
            if (
                ts is None
                or not vm
                or not row[iv].isprintable()
                or not 0 <= cpu <= 100
                or not 0 <= net <= MAX_NET_KBPS
            ):
                raise ValueError
        except ValueError:
            one, bad = row_check(index, _as_dict(header, row), True)
            if one is None:
                errors += bad
                continue
            vm, ts, cpu, net = one[1:]
        samples.append((vm, ts, cpu, net))
    return samples, errors
