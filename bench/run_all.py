"""Every benchmark in one command (`make bench`): the load benchmark on the generated data and
the breakdown of ingest's cost (bench/ingest_cost.py) on the same database, then each
app's bench/bench_*.py module, each in its own process. Prints everything, with the
command, the commit and the machine. Figures only: nothing here asserts a timing, and none of it
runs under `make test`.

    .venv/bin/python -m bench.run_all [--duration 10] [--skip-load] [--only bench_vmquota] [--before REF]
    make bench BEFORE=REF

`--before REF` has the load benchmark measure a worktree of REF beside this checkout, slice for
slice in the same run (bench/load.py says how).

PostgreSQL: the load benchmark uses BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/portal_bench, filled by `manage.py generate_load_data`);
the app benchmarks create and drop their own test database next to it (test_portal_bench).
A module that takes longer than --module-timeout seconds is stopped and reported, so the whole
run stays bounded (about 10 minutes on the 2-core machine).

`--feed` also runs the 100 000-VM feed (bench/bench_feed.py: 10 minutes × 1 and 2 worker
processes, about 25 minutes with its setup, on its own throw-away database
BENCH_FEED_DATABASE_URL); it is left out by default because it is longer than all the rest.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
# Arguments that keep each app's benchmark to a minute or two here; their own defaults may be
# bigger (run them alone for those).
MODULE_ARGS = {"bench_vmquota": ["--vms", "10000", "--replay-vms", "1000"]}


def run(label, command, env, timeout):
    print(f"\n## {label}\n\n$ {' '.join(command)}\n", flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, timeout=timeout, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        output, status = done.stdout, f"exit {done.returncode}"
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
        status = f"stopped after {timeout} s"
    print(output.rstrip(), flush=True)
    print(f"\n({status}, {time.monotonic() - started:.0f} s)", flush=True)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per page under wrk")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--only", action="append", help="run only these bench_* modules")
    parser.add_argument("--module-timeout", type=int, default=240)
    parser.add_argument("--before", metavar="REF", help="the load benchmark also measures REF")
    parser.add_argument("--feed", action="store_true", help="also the 100 000-VM feed (~25 min)")
    args = parser.parse_args(argv)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    python = str(ROOT / ".venv" / "bin" / "python")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                            capture_output=True).stdout.strip()  # fmt: skip
    print("# Benchmarks of the portal\n")
    print(f"Command: `{' '.join(['python', '-m', 'bench.run_all', *(argv or sys.argv[1:])])}`"
          f" (what `make bench` runs); commit {commit}; {time.strftime('%Y-%m-%d %H:%M %Z')}; "
          f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load database {database_url}.")  # fmt: skip
    started = time.monotonic()
    results = {}
    if not args.skip_load:
        env = {**os.environ, "BENCH_DATABASE_URL": database_url}
        results["load"] = run(
            "Load benchmark (bench/load.py)",
            [python, "-m", "bench.load", "--duration", str(args.duration),
             *(["--before", args.before] if args.before else [])],
            env, timeout=(60 if args.before else 30) * 60,
        )  # fmt: skip
        results["ingest_cost"] = run(
            "Ingest's cost, server and Python CPU a batch (bench/ingest_cost.py)",
            [python, "-m", "bench.ingest_cost"], env, timeout=args.module_timeout,
        )  # fmt: skip
    modules = sorted(p.stem for p in BENCH.glob("bench_*.py") if p.stem != "bench_feed")
    if args.only:
        modules = [m for m in modules if m in args.only]
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # each module chooses its own (the test settings)
    for module in modules:
        results[module] = run(
            f"{module} (bench/{module}.py)",
            [python, "-m", f"bench.{module}", *MODULE_ARGS.get(module, [])],
            env, timeout=args.module_timeout,
        )  # fmt: skip
    if args.feed:
        results["bench_feed"] = run(
            "The 100 000-VM feed (bench/bench_feed.py)", [python, "-m", "bench.bench_feed"],
            {**os.environ, "LOG_LEVEL": "WARNING"}, timeout=45 * 60,
        )  # fmt: skip
    print(f"\n## Summary ({time.monotonic() - started:.0f} s in all)\n")
    for name, status in results.items():
        print(f"- {name}: {status}")
    return 0 if all(s == "exit 0" for s in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
