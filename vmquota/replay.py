"""Replay a CSV trace against the seed minutes' four rules, without Django:

    python -m vmquota.replay TRACE.csv [--json]

Imports only `evaluation.py`, the CSV reader (`trace.py`) and the column fold
(`whatif_fold.py`, numpy), so it starts as fast as Python and replays at the speed of reading
the file. `manage.py vmquota_replay` prints the same (through `evaluation.replay`, the
definition) and can also take a stored policy version; with no database or policy it uses these
same seed rules. Errors name the line and field, in Chinese.

A plain trace (the header `vm,ts,cpu_percent,net_kbps`, no quotes, spaces or blank lines) is
read whole: the text split into tokens at once, numbers converted by numpy, each distinct VM name
and time parsed once, and every value checked over whole columns. Anything else – or any row the
column checks refuse – is read row by row by `trace.read_trace`, whose errors are exact.
"""

import json
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


def _plain_columns(text, max_gap):
    """The trace as (names, whatif_fold.Columns), sorted by VM and time with the first of each
    (vm, ts) kept; None when it is not a plain trace whose every row passes the checks."""
    import numpy as np

    from vmquota import whatif_fold

    header, newline, body = text.partition("\n")
    if header != ",".join(trace.FIELDS) or any(c in body for c in '" \t\r'):
        return None
    body = body[:-1] if body.endswith("\n") else body
    if not body or "\n\n" in body:
        return None
    tokens = body.replace(",", "\n").split("\n")
    rows = body.count("\n") + 1
    if len(tokens) != 4 * rows:
        return None
    vm_text, ts_text = tokens[0::4], tokens[1::4]
    try:
        # Python's float(), as the row reader uses (numpy's own conversion of text is slower)
        cpu = np.array(list(map(float, tokens[2::4])), dtype=np.float64)
        net = np.array(list(map(float, tokens[3::4])), dtype=np.float64)
    except ValueError:
        return None
    if not (((cpu >= 0) & (cpu <= 100)).all() and ((net >= 0) & (net <= trace.MAX_NET_KBPS)).all()):
        return None  # NaN fails both comparisons too
    times = {}
    for t in dict.fromkeys(ts_text):
        ts = trace.parse_ts(t)
        if ts is None:
            return None
        times[t] = whatif_fold.to_us(ts)
    names = list(dict.fromkeys(vm_text))
    if not all(n and n.isprintable() for n in names):
        return None
    code = {n: i for i, n in enumerate(names)}
    vm = np.fromiter(map(code.__getitem__, vm_text), dtype=np.int64, count=rows)
    ts = np.fromiter(map(times.__getitem__, ts_text), dtype=np.int64, count=rows)
    order = np.lexsort((ts, vm))  # stable: of two samples at one (vm, ts) the first stays first
    vm, ts, cpu, net = vm[order], ts[order], cpu[order], net[order]
    keep = np.ones(rows, dtype=bool)
    keep[1:] = (vm[1:] != vm[:-1]) | (ts[1:] != ts[:-1])
    return names, whatif_fold.Columns(vm[keep], ts[keep], cpu[keep], net[keep], max_gap)


def replay_file(path):
    """The seed rules' incidents in the trace at path, as `evaluation.replay` gives them."""
    rules, max_gap = evaluation.seed_rule_specs(), evaluation.DEFAULT_MAX_GAP
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, ValueError) as exc:
        raise TraceError(str(exc)) from exc
    plain = _plain_columns(text, max_gap)
    if plain is None:
        return evaluation.replay(load(path), rules, max_gap)
    names, columns = plain
    incidents = [inc for rule in rules for inc in columns.incidents(rule)]
    for inc in incidents:
        inc.vm = names[inc.vm]
    order = {r.key: i for i, r in enumerate(rules)}
    incidents.sort(key=lambda i: (str(i.vm), i.streak_start, order[i.rule.key]))
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
    out = [evaluation.incident_json(inc, tz) for inc in incidents]
    if as_json:
        return dumps(out)
    return "\n".join(
        f"{i['vm']} {i['metric']}≥{i['threshold']} {i['action']} "
        f"{i['streak_start']} → {i['fired_at']} … {i['ended_at']} {i['end_reason']}"
        for i in out
    )


def main(argv=None):
    import argparse

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
