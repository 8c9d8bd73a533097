"""Replay at the speed of the data (prints figures, asserts nothing; needs no database):

    .venv/bin/python -m bench.bench_replay_cli [--vms 1000] [--minutes 180] [--runs 3]

Generates a trace of N VMs × M one-minute samples and the same data as a Prometheus rule test
(the seed's four rules as alerting rules `x >= T` with `for: 30m`, the alerts expected at the
last minute taken from our replay), then times, each as a whole process, best of --runs:
1. `promtool test rules` (when /usr/bin/promtool or PROMTOOL is there; it also checks that
   Prometheus fires what our replay says is firing at the end);
2. `python -m vmquota.replay TRACE.csv --json` (no Django) – the aim: ≥ 20× faster than promtool;
3. `python manage.py vmquota_replay TRACE.csv --json` – the same answer, with Django's start;
4. `python manage.py check` against `python -c "import django"`: every command's start-up.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIM = 20
TPE = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 2, 0, 0, tzinfo=TPE)
RULES = (  # (alert name, metric, threshold): the seed minutes' four rules
    ("cpu_alert", "cpu_percent", 95),
    ("cpu_suspend", "cpu_percent", 100),
    ("net_alert", "net_kbps", 23040),
    ("net_suspend", "net_kbps", 25600),
)


def values(vm, minutes):
    """Runs of high and low values of different lengths, so that streaks start, fire, end."""
    cpu = [100.0 if (m // 40 + vm) % 3 == 0 else (96.0 if (m // 25 + vm) % 4 == 0 else 20.0)
           for m in range(minutes)]  # fmt: skip
    net = [26000.0 if (m // 35 + vm) % 5 == 0 else 100.0 for m in range(minutes)]
    return cpu, net


def write_trace(folder, vms, minutes):
    times = [(T0 + timedelta(minutes=m)).isoformat() for m in range(minutes)]
    lines = ["vm,ts,cpu_percent,net_kbps"]
    series = {}
    for v in range(vms):
        cpu, net = values(v, minutes)
        series[f"vm{v:05d}"] = (cpu, net)
    for m in range(minutes):  # in time order, as collectors send them
        lines += [f"{name},{times[m]},{c[m]:g},{n[m]:g}" for name, (c, n) in series.items()]
    (folder / "trace.csv").write_text("\n".join(lines) + "\n")
    return series


def runs_text(xs):
    """Prometheus' expanding notation: a run of k equal values is `v+0x(k−1)`."""
    out, i = [], 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[i]:
            j += 1
        out.append(f"{xs[i]:g}+0x{j - i}" if j > i else f"{xs[i]:g}")
        i = j + 1
    return " ".join(out)


def write_promtool(folder, series, minutes, firing):
    rules = ["groups:", "  - name: vmquota", "    interval: 1m", "    rules:"]
    for name, metric, threshold in RULES:
        rules += [f"      - alert: {name}", f"        expr: {metric} >= {threshold}",
                  "        for: 30m"]  # fmt: skip
    (folder / "rules.yml").write_text("\n".join(rules) + "\n")
    test = ["rule_files: [rules.yml]", "evaluation_interval: 1m", "tests:", "  - interval: 1m",
            "    input_series:"]  # fmt: skip
    for vm, (cpu, net) in series.items():
        test += [f"      - series: 'cpu_percent{{vm=\"{vm}\"}}'", f"        values: '{runs_text(cpu)}'",
                 f"      - series: 'net_kbps{{vm=\"{vm}\"}}'", f"        values: '{runs_text(net)}'"]  # fmt: skip
    test.append("    alert_rule_test:")
    for name, _, _ in RULES:
        test += [f"      - eval_time: {minutes - 1}m", f"        alertname: {name}",
                 "        exp_alerts:" + ("" if firing[name] else " []")]  # fmt: skip
        for vm in sorted(firing[name]):
            test += [f"          - exp_labels: {{vm: {vm}}}"]
    (folder / "test.yml").write_text("\n".join(test) + "\n")


CPU = {}  # command's first word → its best CPU seconds (user + system, from the kernel)


def best(command, runs, env=None, cwd=ROOT):
    """Best wall time of `runs` runs of the whole process, and the last run's result; its best
    CPU time is kept in CPU (on a shared machine the wall time includes waiting for a core)."""
    times, cpu, out = [], [], None
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU[" ".join(command[:3])] = min(cpu)
    return min(times), out


def cpu_of(command):
    return CPU[" ".join(command[:3])]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=180)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    env.setdefault("DJANGO_SECRET_KEY", "bench-only")
    folder = Path(tempfile.mkdtemp(prefix="replay-bench-"))
    try:
        series = write_trace(folder, args.vms, args.minutes)
        trace = str(folder / "trace.csv")
        n = args.vms * args.minutes
        print(f"trace: {args.vms} VMs × {args.minutes} one-minute samples = {n:,} samples, "
              f"the seed's 4 rules")  # fmt: skip

        cli_cmd = [python, "-m", "vmquota.replay", trace, "--json"]
        cli_s, cli = best(cli_cmd, args.runs, env)
        incidents = json.loads(cli.stdout)
        print(f"python -m vmquota.replay --json: {cli_s:.2f} s ({n / cli_s:,.0f} samples/s, "
              f"process start included; CPU {cpu_of(cli_cmd):.2f} s), "
              f"{len(incidents):,} incidents")  # fmt: skip
        cmd_s, cmd = best([python, "manage.py", "vmquota_replay", trace, "--json"], 1, env)
        same = "the same JSON" if cmd.stdout == cli.stdout else "DIFFERENT output"
        print(f"manage.py vmquota_replay --json: {cmd_s:.2f} s – {same}")

        promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
        if promtool:
            names = {(m, t): a for a, m, t in RULES}
            firing = {a: set() for a, _, _ in RULES}
            for inc in incidents:
                if inc["ended_at"] is None:
                    firing[names[(inc["metric"], inc["threshold"])]].add(inc["vm"])
            write_promtool(folder, series, args.minutes, firing)
            prom_cmd = [promtool, "test", "rules", "test.yml"]
            prom_s, prom = best(prom_cmd, 1, cwd=folder)
            verdict = "agrees" if prom.returncode == 0 else "DISAGREES:\n" + prom.stdout[-2000:]
            print(f"promtool test rules: {prom_s:.2f} s, CPU {cpu_of(prom_cmd):.2f} s "
                  f"(Prometheus {verdict} with the alerts our replay has firing at the end)")  # fmt: skip
            ratio, cpu_ratio = prom_s / cli_s, cpu_of(prom_cmd) / cpu_of(cli_cmd)
            print(f"vmquota.replay is {ratio:.1f}× promtool by the clock, {cpu_ratio:.1f}× by CPU "
                  f"time (aim ≥ {AIM}×: {'met' if ratio >= AIM else 'NOT met'} by the clock)")  # fmt: skip
        else:
            print("promtool: not installed (Debian's prometheus package has it): no comparison")

        bare, check_cmd = [python, "-c", "import django"], [python, "manage.py", "check"]
        django_s, _ = best(bare, args.runs, env)
        check_s, check = best(check_cmd, args.runs, env)
        print(f"start-up: manage.py check {check_s:.2f} s (CPU {cpu_of(check_cmd):.2f} s) against "
              f"python -c 'import django' {django_s:.2f} s (CPU {cpu_of(bare):.2f} s): "
              f"{check_s / django_s:.1f}×{'' if check.returncode == 0 else ' – check FAILED'}")  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
