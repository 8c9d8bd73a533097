"""What-if: draft thresholds against the current policy over the stored samples of the last
30 days – how many alerts and suspensions each would have produced, per school.

The samples are read in (vm, ts) order – the unique index's order – a batch of VMs at a time
(on PostgreSQL as a binary COPY, on SQLite through a plain cursor: never one ORM object per
sample) and folded over whole columns by `whatif_fold`, which the tests hold to
`evaluation.replay`."""

from collections import Counter, defaultdict
from datetime import timedelta
from io import BytesIO

from django.db import connection
from django.utils import timezone

from . import evaluation, whatif_fold
from .models import UsageSample, VirtualMachine, WhatIfRun

# VMs read and folded together: a month of one-minute samples of this many VMs is about 100 MB
# of binary COPY, so memory stays bounded whatever the room's size.
VMS_PER_BATCH = 50


def draft_specs(params):
    return [
        evaluation.RuleSpec(
            key=f"draft{i}", metric=r["metric"], threshold=float(r["threshold"]),
            duration=timedelta(minutes=int(r["minutes"])), action=r["action"],
        )
        for i, r in enumerate(params["rules"])
    ]  # fmt: skip


def _columns(first_id, last_id, since, until, max_gap):
    """The samples of the VMs with first_id ≤ id ≤ last_id in [since, until), as columns."""
    table = UsageSample._meta.db_table
    where = "vm_id >= %s AND vm_id <= %s AND ts >= %s" + (" AND ts < %s" if until else "")
    params = [first_id, last_id, since] + ([until] if until else [])
    select = (
        f"SELECT vm_id, ts, cpu_percent, net_kbps FROM {table} WHERE {where} ORDER BY vm_id, ts"  # noqa: S608 – constants; values are parameters
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = cursor.mogrify(select, params).decode()
            out = BytesIO()
            cursor.copy_expert(f"COPY ({sql}) TO STDOUT (FORMAT binary)", out)
            return whatif_fold.columns_from_copy(out.getbuffer(), max_gap)
        # SQLite: Django's text times, converted per row (tests and small rooms)
        qs = UsageSample.objects.filter(vm_id__gte=first_id, vm_id__lte=last_id, ts__gte=since)
        if until is not None:
            qs = qs.filter(ts__lt=until)
        rows = qs.order_by("vm_id", "ts").values_list("vm_id", "ts", "cpu_percent", "net_kbps")
        vm, ts, cpu, net = [], [], [], []
        for v, t, c, n in rows.iterator(chunk_size=10_000):
            vm.append(v), ts.append(whatif_fold.to_us(t)), cpu.append(c), net.append(n)
        return whatif_fold.Columns(vm, ts, cpu, net, max_gap)


def compare(current_specs, draft, max_gap, since, until=None, progress=None):
    """{school name: {"current": {"alert": n, "suspend": n}, "draft": {...}}} plus totals.
    `progress(done, total)` is called after each batch with the VMs compared so far."""
    per_school = defaultdict(lambda: {"current": Counter(), "draft": Counter()})
    vms = list(VirtualMachine.objects.order_by("pk").values_list("pk", "school__name"))
    school_of = dict(vms)
    for i in range(0, len(vms), VMS_PER_BATCH):
        batch = vms[i : i + VMS_PER_BATCH]
        columns = _columns(batch[0][0], batch[-1][0], since, until, max_gap)
        for vm_id in columns.vm_ids():  # a school with samples has a row, even with no counts
            per_school[school_of.get(vm_id) or "（未指派學校）"]
        for label, specs in (("current", current_specs), ("draft", draft)):
            for rule in specs:
                for vm_id, n in columns.fired_counts(rule).items():
                    school = school_of.get(vm_id) or "（未指派學校）"
                    per_school[school][label][rule.action] += n
        if progress is not None:
            progress(i + len(batch), len(vms))
    rows = [
        {"school": name, "current": dict(c["current"]), "draft": dict(c["draft"])}
        for name, c in sorted(per_school.items())
    ]
    totals = {
        label: dict(sum((Counter(r[label]) for r in rows), Counter()))
        for label in ("current", "draft")
    }
    return {"rows": rows, "totals": totals}


def whatif_compute(*, run_id):
    from .policy import active_version, rule_specs

    run = WhatIfRun.objects.get(pk=run_id)
    if run.status == "done":
        return run.result
    now = timezone.now()
    version = active_version(now)
    current = [
        evaluation.RuleSpec(s.key, s.metric, s.threshold, s.duration, s.action)
        for s in (rule_specs(version) if version else evaluation.seed_rule_specs())
    ]
    max_gap = version.max_gap if version else evaluation.DEFAULT_MAX_GAP

    def progress(done, total):
        WhatIfRun.objects.filter(pk=run.pk).update(vms_done=done, vms_total=total)

    result = compare(
        current, draft_specs(run.params), max_gap, now - timedelta(days=30), progress=progress
    )
    run.result, run.status, run.finished_at = result, "done", timezone.now()
    run.save(update_fields=["result", "status", "finished_at"])
    return run.result
