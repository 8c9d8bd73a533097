"""Samples in: validate a whole batch first, then store it in one statement (or nothing at all).

Used by the collector API (JSON), the CSV back-fill upload and the libvirt collector task.
"""

import csv
import io
import math
import uuid as uuid_module
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .models import UsageSample, VirtualMachine

FIELDS = ("vm", "ts", "cpu_percent", "net_kbps")
MAX_FUTURE = timedelta(minutes=5)
# Ingest holds this lock shared for its transaction; the evaluator takes it exclusively for an
# instant to learn an id below which every sample has been committed (see committed_horizon).
SAMPLES_LOCK = 0x766D71  # "vmq"


@dataclass
class RowError:
    index: int
    field: str
    message: str

    def as_dict(self):
        return {"index": self.index, "field": self.field, "message": self.message}


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


def _number(value, *, from_text):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif from_text and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_rows(rows, *, now=None, from_text=False, check_future=True):
    """Check every row; returns (parsed [(vm_key, ts, cpu, net)], [RowError]). Checks everything
    except whether the VM exists (see resolve_vms)."""
    now = now or timezone.now()
    parsed, errors = [], []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append(
                RowError(index, "", "每一筆樣本必須是物件（vm, ts, cpu_percent, net_kbps）")
            )
            continue
        bad = False
        vm = row.get("vm")
        if not isinstance(vm, str) or not vm.strip():
            errors.append(RowError(index, "vm", "缺少虛擬機名稱或 UUID"))
            bad = True
        ts = parse_ts(row.get("ts"))
        if ts is None:
            errors.append(
                RowError(
                    index, "ts", "時間必須是含時區位移的 ISO 8601，例如 2019-09-10T10:00:00+08:00"
                )
            )
            bad = True
        elif check_future and ts > now + MAX_FUTURE:
            errors.append(RowError(index, "ts", "時間超過現在 5 分鐘以上"))
            bad = True
        cpu = _number(row.get("cpu_percent"), from_text=from_text)
        if cpu is None or not 0 <= cpu <= 100:
            errors.append(RowError(index, "cpu_percent", "CPU 使用率必須是 0 到 100 的數字"))
            bad = True
        net = _number(row.get("net_kbps"), from_text=from_text)
        if net is None or net < 0:
            errors.append(RowError(index, "net_kbps", "網路流量必須是不小於 0 的數字（KB/s）"))
            bad = True
        if not bad:
            parsed.append((index, vm.strip(), ts, cpu, net))
    return parsed, errors


def resolve_vms(parsed):
    """VM names or UUIDs → ids; returns ({key: id}, [RowError] for unknown VMs)."""
    keys = {key for _, key, *_ in parsed}
    found = {}
    if keys:
        uuids = []
        for key in keys:
            try:
                uuids.append(str(uuid_module.UUID(key)))
            except ValueError:
                pass
        for pk, name in VirtualMachine.objects.filter(name__in=keys).values_list("pk", "name"):
            found[name] = pk
        if uuids:
            for pk, uuid in VirtualMachine.objects.filter(uuid__in=uuids).values_list("pk", "uuid"):
                for key in keys:
                    if key.lower() == str(uuid):
                        found[key] = pk
    errors = [
        RowError(index, "vm", f"沒有這台虛擬機：{key}")
        for index, key, *_ in parsed
        if key not in found
    ]
    return found, errors


@contextmanager
def ingest_lock():
    """Inside an atomic block: hold the samples lock shared (PostgreSQL only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SAMPLES_LOCK])
    yield


def store(rows):
    """rows: [(vm_id, ts, cpu, net)] → number stored (duplicates of (vm, ts) are skipped; the
    first one received wins). One statement on PostgreSQL: INSERT … SELECT unnest(arrays)."""
    if not rows:
        return 0
    with transaction.atomic(), ingest_lock():
        if connection.vendor == "postgresql":
            vm_ids, tss, cpus, nets = zip(*rows, strict=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) "
                    "SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::float8[], "
                    "%s::float8[]) ON CONFLICT (vm_id, ts) DO NOTHING",
                    [list(vm_ids), list(tss), list(cpus), list(nets)],
                )
                return cursor.rowcount
        before = UsageSample.objects.count()
        UsageSample.objects.bulk_create(
            [UsageSample(vm_id=v, ts=t, cpu_percent=c, net_kbps=n) for v, t, c, n in rows],
            ignore_conflicts=True,
            batch_size=2000,
        )
        return UsageSample.objects.count() - before


def committed_horizon():
    """The highest sample id such that every sample with a lower id is committed (or rolled
    back). On SQLite writers are serialised, so the current maximum id is safe."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_lock(%s)", [SAMPLES_LOCK])
            try:
                cursor.execute("SELECT COALESCE(MAX(id), 0) FROM vmquota_usagesample")
                return cursor.fetchone()[0]
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SAMPLES_LOCK])
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM vmquota_usagesample")
        return cursor.fetchone()[0]


@dataclass
class IngestResult:
    received: int
    stored: int
    errors: list
    vm_ids: set

    @property
    def duplicates(self):
        return self.received - self.stored


def ingest_rows(rows, *, now=None, from_text=False):
    """Validate all, then store all (or nothing). Queues an evaluation after commit."""
    parsed, errors = parse_rows(rows, now=now, from_text=from_text)
    found, vm_errors = resolve_vms(parsed)
    errors = sorted(
        errors + vm_errors,
        key=lambda e: (e.index, FIELDS.index(e.field) if e.field in FIELDS else -1),
    )
    if errors:
        return IngestResult(len(rows), 0, errors, set())
    to_store = [(found[key], ts, cpu, net) for _, key, ts, cpu, net in parsed]
    stored = store(to_store)
    vm_ids = {row[0] for row in to_store}
    if stored:
        from .tasks import evaluate

        transaction.on_commit(evaluate.delay)
    return IngestResult(len(rows), stored, [], vm_ids)


def read_csv(text):
    """A CSV with the header vm,ts,cpu_percent,net_kbps → list of dicts (strings)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"CSV 缺少欄位：{', '.join(missing)}（需要 vm,ts,cpu_percent,net_kbps）")
    return [dict(row) for row in reader]
