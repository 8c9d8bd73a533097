"""What-if: draft thresholds against the current policy over the stored samples of the last
30 days – how many alerts and suspensions each would have produced, per school."""

from collections import Counter, defaultdict
from datetime import timedelta

from django.utils import timezone

from . import evaluation
from .models import UsageSample, VirtualMachine, WhatIfRun


def draft_specs(params):
    return [
        evaluation.RuleSpec(
            key=f"draft{i}", metric=r["metric"], threshold=float(r["threshold"]),
            duration=timedelta(minutes=int(r["minutes"])), action=r["action"],
        )
        for i, r in enumerate(params["rules"])
    ]  # fmt: skip


def compare(current_specs, draft, max_gap, since, until=None):
    """{school name: {"current": {"alert": n, "suspend": n}, "draft": {...}}} plus totals."""
    per_school = defaultdict(lambda: {"current": Counter(), "draft": Counter()})
    vms = VirtualMachine.objects.select_related("school").order_by("pk")
    for vm in vms.iterator():
        qs = UsageSample.objects.filter(vm=vm, ts__gte=since)
        if until is not None:
            qs = qs.filter(ts__lt=until)
        samples = [
            (vm.pk, *row) for row in qs.order_by("ts").values_list("ts", "cpu_percent", "net_kbps")
        ]
        if not samples:
            continue
        school = vm.school.name if vm.school else "（未指派學校）"
        for label, specs in (("current", current_specs), ("draft", draft)):
            for inc in evaluation.replay(samples, specs, max_gap):
                per_school[school][label][inc.rule.action] += 1
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
    run.result = compare(current, draft_specs(run.params), max_gap, now - timedelta(days=30))
    run.status, run.finished_at = "done", timezone.now()
    run.save(update_fields=["result", "status", "finished_at"])
    return run.result
