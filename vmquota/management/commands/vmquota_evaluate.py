"""Run the live evaluator once (or in a loop) in this process.

    python manage.py vmquota_evaluate [--shards 0,3,5] [--loop --interval 60]

Several of these (or Celery workers running `vmquota.evaluate`) can run at once: each shard is
claimed with SELECT … FOR UPDATE SKIP LOCKED, so they share a cycle and never evaluate the same
VM at the same time. Prints the cycle's stats as JSON, one line per pass.
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from vmquota.evaluation_runner import evaluate_cycle
from vmquota.models import EVALUATION_SHARDS


class Command(BaseCommand):
    help = "Evaluate the usage samples stored since the last cycle (the shards not held by others)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--shards",
            help=f"comma-separated shard numbers (0–{EVALUATION_SHARDS - 1}); default all",
        )
        parser.add_argument(
            "--loop", action="store_true", help="run again every --interval seconds"
        )
        parser.add_argument("--interval", type=float, default=60.0)

    def handle(self, *args, **options):
        shards = None
        if options["shards"]:
            try:
                shards = [int(s) for s in options["shards"].split(",")]
            except ValueError as exc:
                raise CommandError("--shards: comma-separated integers") from exc
            if any(not 0 <= s < EVALUATION_SHARDS for s in shards):
                raise CommandError(f"--shards: 0 to {EVALUATION_SHARDS - 1}")
        while True:
            started = time.monotonic()
            stats = evaluate_cycle(shards=shards)
            stats["seconds"] = round(time.monotonic() - started, 3)
            self.stdout.write(json.dumps(stats))
            if not options["loop"]:
                return
            time.sleep(max(0.0, options["interval"] - (time.monotonic() - started)))
