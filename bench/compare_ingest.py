"""Sample ingest, this checkout against another commit, side by side: what a change to the
collector's path gives, measured in a way this machine's swings move less than a single run.

    .venv/bin/python -m bench.compare_ingest 18e1fce [--rounds 6] [--seconds 5] [--batch 100]

Two gunicorn servers (3 sync workers each, production settings) on the load benchmark's database
(bench/load.py; `generate_load_data` first), one serving a `git worktree` of the other
commit, one this checkout. The same wrk script (bench/ingest.lua) loads them in turn,
`--seconds` each, `--rounds` times; every run posts at a second of its own, so no run repeats
another's samples (a repeat takes the slower ON CONFLICT path). For each run: requests a second,
the CPU the server's workers used (utime + stime from /proc) per request answered, and the CPU
of PostgreSQL's processes per request answered. The samples stored are deleted afterwards, and
the token, the servers and the worktree removed.
"""

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from bench import cpu_seconds, load


def _total(pids):
    return sum(seconds for pid in pids if (seconds := cpu_seconds(pid)) is not None)


def workers_cpu_seconds(server):
    """CPU seconds used so far by a gunicorn master's worker processes."""
    return _total(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split())


def _is_postgres(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:  # a process that ended meanwhile
        return False


def postgres_cpu_seconds():
    """CPU seconds used so far by this machine's PostgreSQL server processes (all of them: the
    two servers' connections, and the WAL writer and checkpointer their commits keep busy)."""
    return _total(
        p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _is_postgres(p.name)
    )


def worktree(commit):
    path = Path(tempfile.mkdtemp(prefix="portal-compare-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(path), commit],
                   cwd=load.ROOT, check=True, capture_output=True)  # fmt: skip
    (path / ".venv").symlink_to(load.ROOT / ".venv")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the commit to compare this checkout with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="samples a request")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    database_url = args.database_url or load.DEFAULT_DATABASE_URL
    env = load.server_env(database_url, load.DEFAULT_BROKER_URL, load.ROOT / "var/bench/static")
    os.environ.update(env)
    import django

    django.setup()
    from bench import generate_load_data as gen
    from vmquota.models import CollectorToken, Hypervisor, VirtualMachine

    if not Hypervisor.objects.filter(name=gen.HYPERVISOR_NAME).exists():
        sys.exit(f"{database_url} 沒有負載資料：請先執行 generate_load_data（見 bench/load.py）")
    load.vacuum_if_earlier_runs_left_dead_rows()
    names = VirtualMachine.objects.filter(hypervisor__name=gen.HYPERVISOR_NAME).order_by("pk")
    workdir = Path(tempfile.mkdtemp(prefix="portal-compare-"))
    (workdir / "vm_names.txt").write_text("\n".join(names.values_list("name", flat=True)) + "\n")
    token, raw = CollectorToken.issue(name="compare_ingest", hypervisors=Hypervisor.objects.all())
    first_sample_id = load.max_sample_id()
    other = worktree(args.commit)
    servers = {}
    try:
        for label, tree in ((args.commit, other), ("this checkout", load.ROOT)):
            port = load.free_port()
            servers[label] = (load.start_gunicorn(env, port, 3, cwd=tree), port)
        figures = {label: [] for label in servers}
        start = int(time.time()) - 3600  # an hour back, a second per run: never a repeat
        runs = itertools.count()

        def post(port, duration):
            return load.run_wrk(
                f"http://127.0.0.1:{port}", load.BENCH_DIR / "ingest.lua",
                [str(workdir / "vm_names.txt"), raw, str(args.batch),
                 str(start - next(runs))],
                duration=duration, connections=args.connections, threads=2,
            )  # fmt: skip

        for _, port in servers.values():  # warm-up, not counted: imports, connections, caches
            post(port, 3)
        for _ in range(args.rounds):
            for label, (server, port) in servers.items():
                before, pg_before = workers_cpu_seconds(server), postgres_cpu_seconds()
                result = post(port, args.seconds)
                answered = max(result["requests"], 1)
                cpu_ms = (workers_cpu_seconds(server) - before) / answered * 1000
                pg_ms = (postgres_cpu_seconds() - pg_before) / answered * 1000
                figures[label].append((result["rps"], cpu_ms, pg_ms, result["errors"]))
                print(f"  {label:<14} {result['rps']:7.1f} req/s  {cpu_ms:.2f} ms of worker CPU "
                      f"and {pg_ms:.2f} of PostgreSQL's a request", file=sys.stderr, flush=True)  # fmt: skip
    finally:
        for server, _ in servers.values():
            load.stop(server)
        token.delete()
        removed = load.delete_samples_after(first_sample_id)
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=load.ROOT,
                       check=False, capture_output=True)  # fmt: skip
    print()
    print(f"Ingest, {args.batch} samples a request, {args.rounds} rounds × {args.seconds} s, "
          f"alternated; gunicorn 3 sync workers each, wrk 2 threads × {args.connections} "
          f"connections; {removed:,} samples stored and deleted.")  # fmt: skip
    print()
    print("| code | req/s (median) | req/s (each round) | worker CPU a request, ms (median) "
          "| PostgreSQL CPU a request, ms (median) | errors |")  # fmt: skip
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for label, rows in figures.items():
        rates = [r for r, _, _, _ in rows]
        print(f"| {label} | {median(rates):.0f} | {', '.join(f'{r:.0f}' for r in rates)} | "
              f"{median(c for _, c, _, _ in rows):.2f} | {median(p for _, _, p, _ in rows):.2f} | "
              f"{sum(e for _, _, _, e in rows)} |")  # fmt: skip
    old, new = figures.values()
    ahead = sum(n[0] > o[0] for o, n in zip(old, new, strict=True))
    print()
    print(f"This checkout answered more requests a second in {ahead} of {args.rounds} rounds.")


if __name__ == "__main__":
    main()
