"""Replay a CSV trace against the seed minutes' four rules, without Django:

    python -m vmquota.replay TRACE.csv [--json]

Imports only `evaluation.py`, the CSV reader (`trace.py`) and the column fold
(`whatif_fold.py`, numpy – the what-if's fold too), so it starts as fast as Python and numpy
and replays at the speed of reading the file. `manage.py vmquota_replay` calls the same
`replay_file` with the active policy version's rules (or the seed's, with no database or
policy). The fold is held to `evaluation.replay`, the definition, by property tests. Errors
name the line and field, in Chinese.

A plain trace (the header `vm,ts,cpu_percent,net_kbps`, no quotes, spaces, carriage returns or
blank lines) is read whole from its bytes: the commas and newlines found at once, each field
read as 8-byte words, equal VM names and times found by a hash that is then checked word by
word (each distinct one decoded and parsed once), plain decimals converted digit by digit as
float() converts them, and every value checked over whole columns. Anything else – or any row
the column checks refuse – is read row by row by `trace.read_trace`, whose errors are exact.
"""

import json
import os
import sys
import zoneinfo

from vmquota import evaluation, trace

TIME_ZONE = "Asia/Taipei"  # the portal's TIME_ZONE (a test holds them equal)


class TraceError(Exception):
    """The trace cannot be read or has bad rows; the message says where."""


def load(path):
    """[(vm, ts, cpu, net)] of the trace at path, or TraceError."""
    try:
        with open(path, encoding="utf-8") as f:
            samples, errors = trace.read_trace(f.read())
    except (OSError, ValueError) as exc:
        raise TraceError(str(exc)) from exc
    if errors:
        raise TraceError(
            "\n".join(f"第 {e.index + 2} 行 {e.field}：{e.message}" for e in errors[:20])
        )
    return samples


HEADER = (",".join(trace.FIELDS) + "\n").encode()
# bytes a plain trace never has: quotes, spaces and the other line ends mean the row reader
REFUSED = (b'"', b" ", b"\t", b"\r")
WIDEST_FIELD = 64  # bytes: a longer VM name or time goes through the row reader
WIDEST_NUMBER = 16  # characters, at most 15 of them digits (see _decimals)
PADDING = WIDEST_FIELD + 16  # zero bytes after the file: every word read from a field exists
H = 0x9E3779B97F4A7C15  # a large odd multiplier for the fields' hash (64-bit wrap-around)


def _words(data):
    """words(at, n): the n 8-byte little-endian words from each byte offset in `at`, read from
    the buffer's aligned words – n + 1 gathers and shifts, cheaper than unaligned reads."""
    import numpy as np

    aligned = np.frombuffer(data, dtype="<u8", count=len(data) // 8)

    def words(at, n):
        shift = (at & 7).astype(np.uint64) * np.uint64(8)
        # numpy defines a shift by 64 as 0, so an aligned offset takes nothing from the next word
        back = np.uint64(64) - shift
        q = at >> 3
        low, out = aligned[q], []
        for i in range(1, n + 1):
            high = aligned[q + i]
            out.append((low >> shift) | (high << back))
            low = high
        return out

    return words


def _separators(body, first):
    """The offsets of the commas and newlines from `first` on, found a megabyte at a time into
    reused buffers (a fresh page costs more here than comparing its bytes), as int32 when the
    file allows."""
    import numpy as np

    step = 1 << 20
    dtype = np.int32 if len(body) < 2**31 else np.int64
    comma, newline, out = np.empty(step, bool), np.empty(step, bool), []
    for at in range(first, len(body), step):
        chunk = body[at : at + step]
        n = len(chunk)
        np.equal(chunk, 44, out=comma[:n])
        np.equal(chunk, 10, out=newline[:n])
        np.logical_or(comma[:n], newline[:n], out=comma[:n])
        found = np.flatnonzero(comma[:n]).astype(dtype)
        found += at
        out.append(found)
    return np.concatenate(out) if out else np.zeros(0, dtype)


def _intern(words, start, width):
    """Equal fields → equal codes: (code per row, one row of each code), or None. A field is
    read as 8-byte words (at most WIDEST_FIELD bytes), hashed, and every row is then compared
    with its code's row word by word, so two different texts never share a code."""
    import numpy as np

    if not len(width) or width.max() > WIDEST_FIELD:
        return None
    widest = int(width.max())
    parts = words(start, (widest + 7) // 8)
    # keep only the field's own bytes of each word (little-endian: the low ones)
    if width.min() == widest:
        if widest % 8:
            parts[-1] &= np.uint64((1 << 8 * (widest % 8)) - 1)
    else:
        low_bytes = np.array([(1 << 8 * r) - 1 for r in range(8)] + [2**64 - 1], np.uint64)
        for i, part in enumerate(parts):
            part &= low_bytes[np.clip(width - 8 * i, 0, 8)]
    h = width.astype(np.uint64)
    for part in parts:
        h = (h ^ part) * np.uint64(H)
    # a trace repeats a field in runs (one time for a whole minute): codes for the runs only
    new_run = np.ones(len(h), dtype=bool)
    new_run[1:] = h[1:] != h[:-1]
    run_rows = np.flatnonzero(new_run)
    run_h = h[run_rows]
    order = np.argsort(run_h)
    sorted_h = run_h[order]
    new_code = np.ones(len(order), dtype=bool)
    new_code[1:] = sorted_h[1:] != sorted_h[:-1]
    run_code = np.empty(len(order), dtype=np.int64)
    run_code[order] = np.cumsum(new_code) - 1
    first = run_rows[order[new_code]]
    code = run_code[np.cumsum(new_run) - 1] if len(run_rows) < len(h) else run_code
    for part in [width, *parts]:
        # within a run, each row equals the one before; each run's first row its code's row
        same = part[1:] == part[:-1]
        if not ((same | new_run[1:]).all() and (part[first][run_code] == part[run_rows]).all()):
            return None  # two texts with one hash: let the row reader do it
    return code, first


def _decimals(words, start, width):
    """Plain decimals (digits with at most one point, at most 15 digits) as float(), or None.
    The digits make an integer below 2**53 and the point a power of ten up to 10**15, both
    exact in a double, so their quotient is the correctly rounded value, which float() gives."""
    import numpy as np

    if not len(width) or width.min() < 1 or width.max() > WIDEST_NUMBER:
        return None
    chunks = [w.view(np.uint8).reshape(-1, 8) for w in words(start, (int(width.max()) + 7) // 8)]
    text = chunks[0] if len(chunks) == 1 else np.concatenate(chunks, axis=1)
    value = np.zeros(len(width))
    decimals = np.zeros(len(width), dtype=np.int64)
    point = np.zeros(len(width), dtype=bool)
    for j in range(int(width.max())):  # column by column, as one reads the digits
        c, inside = text[:, j], j < width
        digit = (c >= 48) & (c <= 57) & inside
        is_point = (c == 46) & inside
        if ((inside & ~digit & ~is_point) | (is_point & point)).any():
            return None  # not a digit, or a second point
        value = np.where(digit, value * 10 + (c.astype(np.float64) - 48), value)
        decimals += digit & point
        point |= is_point
    digits = width - point
    if digits.min() < 1 or digits.max() > 15:
        return None
    return value / np.array([float(10**k) for k in range(16)])[decimals]


def _plain_columns(data, max_gap, size=None):
    """The trace's bytes as (names, whatif_fold.Columns), sorted by VM and time with the first of
    each (vm, ts) kept; None when it is not a plain trace whose every row passes the checks.
    `size`: the file's length when `data` is a bytearray with PADDING zero bytes after it."""
    import numpy as np

    from vmquota import whatif_fold

    if size is None:
        size, data = len(data), bytearray(data) + bytes(PADDING)
    if not data.startswith(HEADER) or any(c in data for c in REFUSED):
        return None
    if not data.isascii():
        try:
            data[:size].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if data[size - 1] != 10:  # the last line's newline
        data[size], size = 10, size + 1
    body = np.frombuffer(data, dtype=np.uint8, count=size)
    ends = _separators(body, len(HEADER))
    rows = len(ends) // 4
    if not rows or len(ends) != 4 * rows:
        return None
    ends = ends.reshape(rows, 4)
    kind = body[ends]
    if not ((kind[:, :3] == 44).all() and (kind[:, 3] == 10).all()):
        return None  # a row of more or fewer fields, or a blank line
    line_starts = np.empty(rows, dtype=ends.dtype)
    line_starts[0], line_starts[1:] = len(HEADER), ends[:-1, 3] + 1
    # each field's start and width as its own column (contiguous, as the word reads want)
    starts = [line_starts] + [ends[:, k - 1] + 1 for k in (1, 2, 3)]
    widths = [ends[:, k] - starts[k] for k in range(4)]
    words = _words(data)
    cpu = _decimals(words, starts[2], widths[2])
    net = _decimals(words, starts[3], widths[3])
    if cpu is None or net is None:
        return None
    if not ((cpu <= 100).all() and (net <= trace.MAX_NET_KBPS).all()):
        return None
    vms = _intern(words, starts[0], widths[0])
    times = _intern(words, starts[1], widths[1])
    if vms is None or times is None:
        return None
    names = []
    for row in vms[1].tolist():
        s = int(starts[0][row])
        name = data[s : s + int(widths[0][row])].decode("utf-8")
        if not (name and name.isprintable()):
            return None
        names.append(name)
    us = []
    for row in times[1].tolist():
        s = int(starts[1][row])
        ts = trace.parse_ts(data[s : s + int(widths[1][row])].decode("ascii", "replace"))
        if ts is None:
            return None
        us.append(whatif_fold.to_us(ts))
    vm, ts = vms[0], np.array(us, dtype=np.int64)[times[0]]
    order = whatif_fold.sort_order(vm, ts)  # stable: of two samples at one (vm, ts) the first stays
    vm, ts, cpu, net = vm[order], ts[order], cpu[order], net[order]
    keep = np.ones(rows, dtype=bool)
    keep[1:] = (vm[1:] != vm[:-1]) | (ts[1:] != ts[:-1])
    return names, whatif_fold.Columns(vm[keep], ts[keep], cpu[keep], net[keep], max_gap)


def replay_file(path, rules=None, max_gap=None):
    """The incidents of the rules (default: the seed's) in the trace at path, as
    `evaluation.replay` gives them."""
    if rules is None:
        rules, max_gap = evaluation.seed_rule_specs(), evaluation.DEFAULT_MAX_GAP
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = bytearray(size + PADDING)
            size = f.readinto(memoryview(data)[:size])
    except OSError as exc:
        raise TraceError(str(exc)) from exc
    plain = _plain_columns(data, max_gap, size) if size else None
    if plain is None:
        return evaluation.replay(load(path), rules, max_gap)
    from vmquota import whatif_fold

    names, columns = plain
    incidents = whatif_fold.replay_columns(columns, rules, names)
    return incidents


def dumps(incidents):
    """json.dumps(incidents, ensure_ascii=False, indent=2) for a list of flat dicts, by the C
    encoder (with an indent, json encodes in Python): each dict's items joined by the indented
    separator, which only ever stands between items – a string's own newline is escaped."""
    if not incidents:
        return "[]"
    one = json.JSONEncoder(ensure_ascii=False, separators=(",\n    ", ": ")).encode
    return "[\n" + ",\n".join("  {\n    " + one(d)[1:-1] + "\n  }" for d in incidents) + "\n]"


def render(incidents, as_json, tz_name=TIME_ZONE):
    tz = zoneinfo.ZoneInfo(tz_name)
    text = {}  # a trace repeats its times: each is formatted once

    def iso(dt):
        out = text.get(dt)
        if out is None and dt is not None:
            out = text[dt] = dt.astimezone(tz).isoformat()
        return out

    out = [evaluation.incident_json(inc, tz, iso) for inc in incidents]
    if as_json:
        return dumps(out)
    return "\n".join(
        f"{i['vm']} {i['metric']}≥{i['threshold']} {i['action']} "
        f"{i['streak_start']} → {i['fired_at']} … {i['ended_at']} {i['end_reason']}"
        for i in out
    )


def _keep_freed_memory():
    """A short process: let glibc keep what numpy frees for the next array, instead of giving
    each large array fresh pages from the kernel (a fresh page costs more than filling it)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return  # not glibc
    for option, value in ((-1, 1 << 30), (-2, 64 << 20), (-3, 1 << 30)):  # M_TRIM_THRESHOLD,
        mallopt(option, value)  # M_TOP_PAD, M_MMAP_THRESHOLD (malloc.h)


def main(argv=None):
    import argparse

    # numpy's BLAS starts a thread per core at import; nothing here multiplies matrices
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _keep_freed_memory()

    parser = argparse.ArgumentParser(
        prog="python -m vmquota.replay",
        description="Replay usage samples (vm,ts,cpu_percent,net_kbps) against the seed rules.",
    )
    parser.add_argument("trace")
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    args = parser.parse_args(argv)
    try:
        incidents = replay_file(args.trace)
    except TraceError as exc:
        print(exc, file=sys.stderr)
        return 1
    text = render(incidents, args.json)
    if text:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
