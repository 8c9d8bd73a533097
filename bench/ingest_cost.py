"""Where a collector's 100-sample batch spends its CPU, against a raw COPY: one connection, one
batch after another, the database server's CPU read from /proc (PostgreSQL must run on this
machine) and this process's from `time.process_time`. The load benchmark (bench/load.py)
says how fast ingest is under load; this says why, in figures that move far less than wrk's.

    .venv/bin/python -m bench.ingest_cost [--batch 100] [--batches 1000] [--rounds 3]

On the load benchmark's database (BENCH_DATABASE_URL, default portal_bench: `generate_load_data`
first), so the table and its indexes are the size the load benchmark meets. Each round measures,
in turn:

- **bulk COPY**: 200 000 new rows in one COPY and one commit, per `--batch` rows (the reference
  of the load benchmark's "of COPY"), with and without the foreign key's checks;
- **small COPY**: `--batch` rows in a transaction of their own (COPY, COMMIT): what any batch of
  that size costs the server, whatever sends it;
- **the same without the foreign key's checks** (`SET LOCAL session_replication_role = replica`,
  superusers only; skipped otherwise): how much of that is the check on `vm_id`;
- **the collector's batch**: `json.loads` of the request body and `vmquota.ingest.ingest_rows`
  with the token, the collector API's own code (the VMs and the token's scope read, the COPY),
  without HTTP, the token's lookup, the rate limit or the evaluation nudge.

It then prints the ceiling these put on the load benchmark's ratio with two cores: a batch's
server and Python CPU against the bulk COPY's, before HTTP, the server process and the load tool
take their share. Every row stored is deleted afterwards, and the token with them.
"""

import argparse
import io
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from statistics import median

from bench import cpu_seconds, load

BULK_ROWS = 200_000


class Measured:
    """Per-batch figures, one list per round: the server's CPU and this process's."""

    def __init__(self, label):
        self.label, self.server_ms, self.python_ms = label, [], []

    def __call__(self, pid, batches, run_one):
        server, python = cpu_seconds(pid), time.process_time()
        for n in range(batches):
            run_one(n)
        self.server_ms.append((cpu_seconds(pid) - server) / batches * 1000)
        self.python_ms.append((time.process_time() - python) / batches * 1000)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100, help="samples a batch")
    parser.add_argument("--batches", type=int, default=1000, help="batches a measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    database_url = args.database_url or load.DEFAULT_DATABASE_URL
    os.environ.update(
        load.server_env(database_url, load.DEFAULT_BROKER_URL, load.ROOT / "var/bench/static")
    )
    import django

    django.setup()
    from django.db import connection, transaction

    from bench import generate_load_data as gen
    from vmquota import ingest
    from vmquota.models import CollectorToken, Hypervisor, VirtualMachine

    vms = list(
        VirtualMachine.objects.filter(hypervisor__name=gen.HYPERVISOR_NAME)
        .order_by("pk")
        .values_list("pk", "name")
    )
    if not vms:
        sys.exit(f"{database_url} 沒有負載資料：請先執行 generate_load_data（見 bench/load.py）")
    load.vacuum_if_earlier_runs_left_dead_rows()
    ingest.nudge_evaluation = lambda: None  # nothing queued: no worker reads the bench broker
    token, raw = CollectorToken.issue(name="ingest_cost", hypervisors=Hypervisor.objects.all())
    first_sample_id = load.max_sample_id()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid(), usesuper FROM pg_user WHERE usename = current_user"
        )
        pid, superuser = cursor.fetchone()
    # every batch at a microsecond of its own, an hour back: never a generated sample's minute
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    sequence = iter(range(1, 10**9))
    size = args.batch

    def chunk(n):
        first = (n * size) % len(vms)
        return [vms[(first + i) % len(vms)] for i in range(size)]

    def stamp():
        return (start + timedelta(microseconds=next(sequence))).isoformat()

    def copy_text(rows, ts):
        return "".join(f"{pk}\t{ts}\t12.5\t300.0\n" for pk, _ in rows)

    def raw_copy(text, without_fk):
        """A raw COPY and its commit (replica mode: no foreign-key triggers fire)."""
        with transaction.atomic(), connection.cursor() as cursor:
            if without_fk:
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.cursor.copy_expert(
                "COPY vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) FROM STDIN",
                io.StringIO(text),
            )

    def small_copy(n, *, without_fk=False):
        raw_copy(copy_text(chunk(n), stamp()), without_fk)

    def bulk_copy(pid, *, without_fk=False):
        """The server's CPU for a bulk COPY, per `size` rows."""
        text = "".join(
            f"{vms[i % len(vms)][0]}\t{stamp()}\t12.5\t300.0\n" for i in range(BULK_ROWS)
        )
        server = cpu_seconds(pid)
        raw_copy(text, without_fk)
        return (cpu_seconds(pid) - server) / (BULK_ROWS / size) * 1000

    # the collector's request bodies, made before the clock starts (as wrk's are)
    bodies = []

    def collector(n):
        rows = json.loads(bodies[n])["samples"]
        result = ingest.ingest_rows(rows, token=token)
        assert result.stored == size, result.errors[:3]

    figures = {
        key: Measured(label)
        for key, label in (
            ("small", f"COPY of {size} rows, its own transaction"),
            ("nofk", "the same without the foreign key's checks"),
            ("collector", f"the collector's batch of {size} (`ingest_rows`, JSON decoded)"),
        )
    }
    bulk_ms, bulk_nofk_ms = [], []
    try:
        for _ in range(args.rounds):
            bodies[:] = [
                json.dumps({"samples": [
                    {"vm": name, "ts": ts, "cpu_percent": (pk % 90) + 0.5, "net_kbps": 200 + pk % 700}
                    for pk, name in chunk(n)
                ]}).encode()
                for n, ts in ((n, stamp()) for n in range(args.batches))
            ]  # fmt: skip
            bulk_ms.append(bulk_copy(pid))
            if superuser:
                bulk_nofk_ms.append(bulk_copy(pid, without_fk=True))
            figures["small"](pid, args.batches, small_copy)
            if superuser:
                figures["nofk"](pid, args.batches, lambda n: small_copy(n, without_fk=True))
            figures["collector"](pid, args.batches, collector)
            print(f"  round: bulk {bulk_ms[-1]:.2f}, "
                  + ", ".join(f"{k} {f.server_ms[-1]:.2f}+{f.python_ms[-1]:.2f}"
                              for k, f in figures.items() if f.server_ms)
                  + " ms a batch (server+Python)", file=sys.stderr, flush=True)  # fmt: skip
    finally:
        token.delete()
        removed = load.delete_samples_after(first_sample_id)

    def spread(values):
        return f"{median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    print(f"Ingest's cost, {size} samples a batch: {args.rounds} rounds of {args.batches} batches "
          f"one after another on one connection, each round beside a bulk COPY of {BULK_ROWS:,} "
          f"rows; {removed:,} samples stored and deleted. Medians of the rounds (lowest–highest).")  # fmt: skip
    print()
    print(f"| what | PostgreSQL CPU, ms a batch of {size} | Python CPU, ms a batch |")
    print("| --- | ---: | ---: |")
    print(f"| bulk COPY of {BULK_ROWS:,} rows, per {size} | {spread(bulk_ms)} | |")
    if bulk_nofk_ms:
        print(f"| the same without the foreign key's checks | {spread(bulk_nofk_ms)} | |")
    for measured in figures.values():
        if measured.server_ms:
            print(f"| {measured.label} | {spread(measured.server_ms)} | "
                  f"{spread(measured.python_ms)} |")  # fmt: skip
    if not superuser:
        print("| (without the foreign key: needs a superuser, not measured) | | |")
    collector_ms = median(figures["collector"].server_ms) + median(figures["collector"].python_ms)
    print()
    print(f"With two cores and nothing else to pay, collectors' batches could reach "
          f"{2 * median(bulk_ms) / collector_ms:.2f} of the bulk COPY's samples/s (2 × "
          f"{median(bulk_ms):.2f} / {collector_ms:.2f} ms); HTTP, the server process, the rate "
          f"limit and the load tool come off that.")  # fmt: skip


if __name__ == "__main__":
    main()
