"""Samples in, by every way they come: the collector API, the bureau's CSV back-fill and the
libvirt collector. A batch is checked whole first (every row by `_row_check`, the VMs looked up
and, for a collector's token, held to its scope), then stored by `store` in one transaction: all
of it or nothing, and every error names its row and field."""

import io
import logging
import uuid as uuid_module
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from portal.audit import record

from . import rollup
from .models import UsageSample, VirtualMachine
from .trace import (  # noqa: F401 – read_csv, parse_ts, MAX_NET_KBPS: used through this module
    FIELDS,
    MAX_NET_KBPS,
    RowError,
    parse_ts,
    read_csv,
    row_check,
    value_errors,
)

log = logging.getLogger("vmquota")
MAX_FUTURE = timedelta(minutes=5)


def accepted_window(now):
    """(earliest, latest): the times a stored sample may carry. Older than the retention the purge
    would delete it, and the evaluation has long moved past it; more than MAX_FUTURE ahead it is
    no measurement. Every accepted time is thus one the database and Python both represent (a
    year-1 time with a positive offset is stored by PostgreSQL as 1 BC, which Python cannot read
    back)."""
    return now - timedelta(days=settings.VMQUOTA_SAMPLE_RETENTION_DAYS), now + MAX_FUTURE


def _local_text(ts):
    return timezone.localtime(ts).isoformat(timespec="seconds")


def sample_errors(index, ts, cpu, net, window):
    """What is wrong with one sample's values (a time, numbers or None for a value that is not
    one): [RowError]. The check of the values of every sample that comes in, whichever way: the
    API and the CSV upload (through _row_check), the libvirt collector (usage_collect).
    `window`: (earliest, latest) for the time, or None to take any time."""
    errors = _window_errors(window)(index, ts) if ts is not None and window is not None else []
    return errors + value_errors(index, cpu, net)


def _window_errors(window):
    def check(index, ts):
        if window[0] <= ts <= window[1]:
            return []
        earliest, latest = (_local_text(t) for t in window)
        days = settings.VMQUOTA_SAMPLE_RETENTION_DAYS
        return [RowError(
            index, "ts",
            f"時間必須在 {earliest} 到 {latest} 之間（保留 {days} 天內，最多超前現在 5 分鐘）",
            {"from": earliest, "to": latest},
        )]  # fmt: skip

    return check


def _row_check(index, row, window, from_text):
    """One row: ((index, vm key, ts, cpu, net), []) when it can be stored, else (None, [RowError]).
    `window`: (earliest, latest) for the time, or None to take any time (a replay of an old
    trace)."""
    return row_check(index, row, from_text, None if window is None else _window_errors(window))


def parse_rows(rows, *, now=None, from_text=False, check_window=True):
    """Check every row; returns (parsed [(index, vm key, ts, cpu, net)], [RowError]). Checks
    everything except whether the VM exists (see resolve_vms). `from_text`: numbers may be
    strings (a CSV). `check_window=False` takes any time (a replay of an old trace, never
    stored)."""
    window = accepted_window(now or timezone.now()) if check_window else None
    parsed, errors = [], []
    for index, row in enumerate(rows):
        one, bad = _row_check(index, row, window, from_text)
        if one is not None:
            parsed.append(one)
        errors.extend(bad)
    return parsed, errors


def _uuid_text(key):
    """The canonical text of a UUID key, or None."""
    if len(key) < 32:  # shorter than a UUID's hex digits: a name (and no exception to raise)
        return None
    try:
        return str(uuid_module.UUID(key))
    except ValueError:
        return None


class FoundVm(NamedTuple):
    pk: int
    hypervisor_id: int
    school_id: int | None


def resolve_vms(parsed):
    """VM names or UUIDs → VMs; returns ({key: FoundVm}, [RowError] for unknown VMs). A key that
    is both some VM's name and another's UUID means the VM with that UUID."""
    keys = {row[1] for row in parsed}
    columns = ("pk", "hypervisor_id", "school_id")
    if connection.vendor == "postgresql" and keys:
        # the names as one array: the ORM's IN list of a room's thousands of names cost more
        # than all the batch's other checks together
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, id, hypervisor_id, school_id FROM vmquota_virtualmachine "
                "WHERE name = ANY(%s)",
                [list(keys)],
            )
            named = cursor.fetchall()
    else:
        named = VirtualMachine.objects.filter(name__in=keys).values_list("name", *columns)
    found = {name: FoundVm(*vm) for name, *vm in named}
    uuid_of = {key: text for key in keys if (text := _uuid_text(key))}
    if uuid_of:
        by_uuid = {
            str(uuid): FoundVm(*vm)
            for uuid, *vm in VirtualMachine.objects.filter(
                uuid__in=set(uuid_of.values())
            ).values_list("uuid", *columns)
        }
        found.update({key: by_uuid[text] for key, text in uuid_of.items() if text in by_uuid})
    errors = [
        RowError(row[0], "vm", f"沒有這台虛擬機：{row[1]}") for row in parsed if row[1] not in found
    ]
    return found, errors


def scope_errors(token, parsed, found):
    """Rows whose VM the collector token may not post for (CollectorToken: those on its hosts or
    of its school): ([RowError], {their VM keys}), audited, so that a leaked token trying another
    school's VMs leaves a trace."""
    hosts = set(token.hypervisors.values_list("pk", flat=True))
    refused = {
        key
        for key, vm in found.items()
        if vm.hypervisor_id not in hosts
        and (token.school_id is None or vm.school_id != token.school_id)
    }
    errors = [
        RowError(row[0], "vm", f"此權杖不可送出虛擬機「{row[1]}」的樣本（不在收集範圍內）")
        for row in parsed
        if row[1] in refused
    ]
    if refused:
        record("vmquota.token_out_of_scope", target=str(token), token_id=token.pk,
               vms=sorted(refused)[:100], rows=len(errors))  # fmt: skip
    return errors, refused


def _copied(samples):
    """PostgreSQL: COPY the samples in, the cheapest way into the table, for the common case – a
    collector sending its newest minute. False, having stored nothing, when the unique index
    refused the COPY (the batch repeats a stored sample)."""
    # each distinct time formatted once (a collector's batch is mostly one minute for many VMs)
    utc = {ts: ts.isoformat() for ts in {ts for _, ts in samples}}
    text = "".join(
        f"{vm_id}\t{utc[ts]}\t{cpu!r}\t{net!r}\n" for (vm_id, ts), (cpu, net) in samples.items()
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.copy_expert(
                "COPY vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) FROM STDIN",
                io.StringIO(text),
            )
            rollup.record_new(samples)  # every one was new: the charts' maxima, in this commit
    except IntegrityError:  # a repeat; any other refusal the ORM's insert meets again
        return False
    return True


class _InsertedRows:
    """Adds up the row counts of the statements run inside it: bulk_create with
    ignore_conflicts does not say how many rows it inserted, the statements do."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.count += max(context["cursor"].rowcount, 0)
        return result


def store(rows):
    """rows: [(vm_id, ts, cpu, net)] → how many were stored. A sample for a (vm, ts) already
    stored, or earlier in `rows`, is skipped: the first one received wins, and resending a batch
    stores nothing twice. All or nothing. On PostgreSQL every insert takes the samples lock
    (UsageSample)."""
    samples = {}
    for vm_id, ts, cpu, net in rows:
        # in UTC: Python takes offsets PostgreSQL refuses (beyond ±15:59, or with seconds)
        samples.setdefault((vm_id, ts.astimezone(UTC)), (float(cpu), float(net)))
    if not samples:
        return 0
    if connection.vendor == "postgresql" and _copied(samples):
        return len(samples)
    inserted = _InsertedRows()
    with transaction.atomic():
        with connection.execute_wrapper(inserted):
            UsageSample.objects.bulk_create(
                [UsageSample(vm_id=v, ts=t, cpu_percent=c, net_kbps=n)
                 for (v, t), (c, n) in samples.items()],
                ignore_conflicts=True,
            )  # fmt: skip
        if inserted.count:  # which of them were stored is the table's to say: read back
            rollup.record_recomputed(samples)
    return inserted.count


@dataclass
class IngestResult:
    received: int
    stored: int
    errors: list
    vm_ids: set
    # the VMs the token may not post for (the whole batch was refused for them)
    out_of_scope: list = ()

    @property
    def duplicates(self):
        return self.received - self.stored


def ingest_rows(rows, *, token=None, now=None, from_text=False):
    """Check every row, then store them all (or nothing, with every error). With a collector
    `token`, every VM must be in its scope; without one (bureau staff's CSV upload), any VM.
    Queues an evaluation once the batch is committed."""
    parsed, errors = parse_rows(rows, now=now, from_text=from_text)
    found, vm_errors = resolve_vms(parsed)
    scope, refused = scope_errors(token, parsed, found) if token is not None else ([], set())
    if errors or vm_errors or scope:
        errors = sorted(
            errors + vm_errors + scope,
            key=lambda e: (e.index, FIELDS.index(e.field) if e.field in FIELDS else -1),
        )
        return IngestResult(len(rows), 0, errors, set(), sorted(refused))
    stored = store([(found[key].pk, ts, cpu, net) for _, key, ts, cpu, net in parsed])
    if stored:
        transaction.on_commit(nudge_evaluation)
    return IngestResult(len(rows), stored, [], {vm.pk for vm in found.values()})


# At most one evaluation queued per this many seconds, however many batches arrive: each queued
# evaluation is a cycle over every shard, and one cycle covers every batch committed before it.
NUDGE_SECONDS = 5
NUDGE_KEY = "vmquota:evaluation-nudge"


def nudge_evaluation():
    """Ask a worker to evaluate soon: the first batch of a quiet spell adds a cache key that lives
    NUDGE_SECONDS and queues an evaluation to start a second after the key expires; batches
    committed while the key lives queue nothing, since that evaluation starts after their commit
    and reads them. So every batch is evaluated within about NUDGE_SECONDS + 1 s, and a stream
    of batches costs one cycle per NUDGE_SECONDS, not one each.

    The database is the record, the queue only nudges (the beat evaluates every minute anyway):
    with the broker down this logs, drops the key so that the next batch tries again, and
    returns – a collector never gets an error for samples that were committed. Without the
    cache every batch queues one."""
    from .tasks import evaluate

    try:
        # None: a cache that swallows its errors (django-redis' IGNORE_EXCEPTIONS) could not add
        first = cache.add(NUDGE_KEY, 1, timeout=NUDGE_SECONDS)
    except Exception:  # noqa: BLE001 – any cache error: nudge unthrottled rather than not at all
        log.warning("vmquota: the evaluation nudge's cache key is unavailable", exc_info=True)
        first = None
    if first is False:
        return  # an evaluation is queued already and starts after this batch's commit
    try:
        evaluate.apply_async(countdown=NUDGE_SECONDS + 1)
    except Exception:  # noqa: BLE001 – any broker error; the samples are already stored
        log.warning("vmquota: could not queue an evaluation (broker down?)", exc_info=True)
        with suppress(Exception):
            cache.delete(NUDGE_KEY)
