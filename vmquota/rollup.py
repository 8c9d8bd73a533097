"""The 5-minute maxima per VM and metric (`SampleRollup`), kept as samples are stored, so a
chart of a day, a week or a month reads a few hundred rows instead of every sample.

`ingest.store` calls `record_new` for a batch it COPYed whole (every sample is new, so a bucket's
maximum is the greater of the stored one and the batch's) and `record_recomputed` when the unique
index may have refused some of the batch (the buckets it touches are recomputed from the stored
samples). Both only ever raise a maximum, so concurrent batches cannot lower one another's, and
they write their buckets in (vm, bucket) order, so two batches never wait on each other in a
circle. `tests/vmquota/test_rollup.py` holds the table to the raw maxima."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q

from .models import SampleRollup, UsageSample

BUCKET = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_of(ts):
    """The start of the 5-minute bucket (on the clock, UTC) that holds ts."""
    return EPOCH + (ts - EPOCH) // BUCKET * BUCKET


def _maxima(samples):
    """{(vm_id, ts): (cpu, net)} → {(vm_id, bucket): (max cpu, max net)}."""
    out = {}
    for (vm_id, ts), (cpu, net) in samples.items():
        key = (vm_id, bucket_of(ts))
        old = out.get(key)
        out[key] = (cpu, net) if old is None else (max(old[0], cpu), max(old[1], net))
    return out


def _upsert(maxima):
    """Raise each (vm, bucket)'s stored maxima to at least these."""
    if not maxima:
        return
    rows = sorted(maxima.items())
    table = SampleRollup._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (vm_id, bucket, cpu_max, net_max) "  # noqa: S608 – a constant
                "SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::float8[], %s::float8[]) "
                "ORDER BY 1, 2 ON CONFLICT (vm_id, bucket) DO UPDATE SET "
                f"cpu_max = GREATEST({table}.cpu_max, EXCLUDED.cpu_max), "
                f"net_max = GREATEST({table}.net_max, EXCLUDED.net_max)",
                [[v for (v, _), _ in rows], [b for (_, b), _ in rows],
                 [c for _, (c, _) in rows], [n for _, (_, n) in rows]],
            )  # fmt: skip
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT INTO {table} (vm_id, bucket, cpu_max, net_max) VALUES (%s, %s, %s, %s) "  # noqa: S608 – a constant
            "ON CONFLICT (vm_id, bucket) DO UPDATE SET cpu_max = max(cpu_max, excluded.cpu_max), "
            "net_max = max(net_max, excluded.net_max)",
            [(v, adapt(b), c, n) for (v, b), (c, n) in rows],
        )


def record_new(samples):
    """samples: {(vm_id, ts in UTC): (cpu, net)}, every one of them just stored."""
    _upsert(_maxima(samples))


def record_recomputed(keys):
    """keys: (vm_id, ts) of samples of which some may have been stored: their buckets are read
    back from the stored samples."""
    buckets = defaultdict(set)
    for vm_id, ts in keys:
        buckets[vm_id].add(bucket_of(ts))
    if connection.vendor == "postgresql":  # one statement, whatever the number of VMs
        pairs = sorted((v, b) for v, starts in buckets.items() for b in starts)
        table, samples = SampleRollup._meta.db_table, UsageSample._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (vm_id, bucket, cpu_max, net_max) "  # noqa: S608 – constants
                "SELECT s.vm_id, k.bucket, max(s.cpu_percent), max(s.net_kbps) "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS k(vm_id, bucket) "
                f"JOIN {samples} s ON s.vm_id = k.vm_id AND s.ts >= k.bucket "
                "AND s.ts < k.bucket + interval '5 minutes' "
                "GROUP BY s.vm_id, k.bucket ORDER BY 1, 2 "
                "ON CONFLICT (vm_id, bucket) DO UPDATE SET "
                f"cpu_max = GREATEST({table}.cpu_max, EXCLUDED.cpu_max), "
                f"net_max = GREATEST({table}.net_max, EXCLUDED.net_max)",
                [[v for v, _ in pairs], [b for _, b in pairs]],
            )
        return
    stored = {}
    for vm_id, starts in buckets.items():
        rows = UsageSample.objects.filter(
            vm_id=vm_id, ts__gte=min(starts), ts__lt=max(starts) + BUCKET
        ).values_list("ts", "cpu_percent", "net_kbps")
        for ts, cpu, net in rows:
            if bucket_of(ts) in starts:
                stored[(vm_id, ts)] = (cpu, net)
    _upsert(_maxima(stored))


def maxima(vm, start, end, step=BUCKET):
    """[(period start, max cpu, max net)] of the periods of `step` (a whole number of buckets, on
    the clock) that have data in [start, end): from the rollup, ≤ (end − start) / step rows."""
    per = step // BUCKET
    rows = (
        SampleRollup.objects.filter(vm=vm, bucket__gte=bucket_of(start), bucket__lt=end)
        .order_by("bucket")
        .values_list("bucket", "cpu_max", "net_max")
    )
    if per == 1:
        return list(rows)
    out = {}
    for bucket, cpu, net in rows.iterator(chunk_size=2000):
        key = EPOCH + (bucket - EPOCH) // step * step
        old = out.get(key)
        out[key] = (cpu, net) if old is None else (max(old[0], cpu), max(old[1], net))
    return [(k, c, n) for k, (c, n) in out.items()]


def minutes_over(vm, rules, since, until):
    """{rule pk: how many of the VM's one-minute samples in [since, until) met the rule's
    threshold} – what a school asks when its VM was suspended. Counted from the samples
    themselves (one query): a 5-minute maximum cannot say how many of its minutes were over."""
    if not rules:
        return {}
    field = {"cpu_percent": "cpu_percent", "net_kbps": "net_kbps"}
    counts = UsageSample.objects.filter(vm=vm, ts__gte=since, ts__lt=until).aggregate(
        **{f"r{r.pk}": Count("pk", filter=Q(**{f"{field[r.metric]}__gte": r.threshold}))
           for r in rules}
    )  # fmt: skip
    return {r.pk: counts[f"r{r.pk}"] for r in rules}


def raw_maxima(vm, start, end):
    """The rollup's rows computed from the samples (the definition the tests hold it to)."""
    rows = UsageSample.objects.filter(vm=vm, ts__gte=start, ts__lt=end).values_list(
        "ts", "cpu_percent", "net_kbps"
    )
    return sorted(_maxima({(vm.pk, ts): (c, n) for ts, c, n in rows}).items())
