"""Reads of the vmquota app, shaped for pages (a fixed number of queries each)."""

import hashlib
import logging
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from portal import fragments
from portal.models import AuditEvent

from . import rollup
from .chart import bucket_maxima, table_rows, vm_charts
from .models import (
    Action,
    CollectorToken,
    Exemption,
    Incident,
    PolicyVersion,
    StreakState,
    UsageSample,
    VirtualMachine,
    format_threshold,
)


def _active_version(now):
    return (
        PolicyVersion.objects.filter(published_at__isnull=False, effective_from__lte=now)
        .prefetch_related("rules")
        .order_by("-effective_from", "-number")
        .first()
    )


log = logging.getLogger("vmquota")
CHARTS_CACHE_SECONDS = 120
# The room's state, which the home block (portal/navigation.py) and the VM page's read-only
# sections depend on: moved when an incident, action, VM, state change, policy version or
# exemption is saved (apps.ready) and by the evaluator's bulk writes (evaluation_runner).
ROOM_COUNTER = "vmquota:room"


def _charts_key(vm, now, latest, version, rules, shaded):
    """Everything the charts are drawn from: the VM, the minute (the 24-hour window moves), the
    latest sample (a new one changes the key), the rules and the shaded incidents."""
    signature = repr((
        vm.pk, int(now.timestamp() // 60), latest[0].isoformat(), version and version.pk,
        [(r.pk, r.metric, r.threshold, r.action) for r in rules],
        [(i.pk, i.rule_id, i.streak_start.isoformat(), i.ended_at and i.ended_at.isoformat())
         for i in shaded],
    ))  # fmt: skip
    return "vmquota:charts:2:" + hashlib.sha256(signature.encode()).hexdigest()


def _cached_charts(vm, now, latest, version, rules, shaded, draw):
    """The rendered charts of this minute, from the cache (Redis in production) when another
    request drew them with the same samples, rules and incidents; `draw()` otherwise. A cache
    that fails only costs the drawing."""
    key = _charts_key(vm, now, latest, version, rules, shaded)
    try:
        charts = cache.get(key)
    except Exception:  # noqa: BLE001 – any cache error: draw them
        log.warning("vmquota: the chart cache is unavailable", exc_info=True)
        return draw()
    if charts is None:
        charts = draw()
        try:
            cache.set(key, charts, CHARTS_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            log.warning("vmquota: the chart cache is unavailable", exc_info=True)
    return charts


def vm_page(vm, now=None):
    now = now or timezone.now()
    start = now - timedelta(hours=24)
    version = _active_version(now)
    rules = list(version.rules.all()) if version else []
    samples = UsageSample.objects.filter(vm=vm)
    # the latest raw sample: one row, read by the unique (vm, ts) index backwards
    latest = (
        samples.filter(ts__gte=start, ts__lte=now)
        .order_by("-ts")
        .values_list("ts", "cpu_percent", "net_kbps")
        .first()
    )
    incidents = list(
        Incident.objects.filter(vm=vm, withdrawn_at__isnull=True)
        .select_related("rule")
        .order_by("-fired_at")[:30]
    )
    shaded = [i for i in incidents if not i.observe_only]

    def draw():
        # the database downsamples the 24 hours to the chart's 5-minute maxima (≤ 289 rows,
        # not 1 440)
        rows = bucket_maxima(samples, start, now) if latest else []
        charts = vm_charts(rows, start, now, rules, shaded)
        # the text alternative's 289 rows cost more to render than the charts: cache them too
        charts["table_html"] = render_to_string(
            "vmquota/_chart_table.html", {"rows": table_rows(rows)}
        )
        return charts

    charts = _cached_charts(vm, now, latest, version, rules, shaded, draw) if latest else draw()
    streaks = {s.rule_id: s for s in StreakState.objects.filter(vm=vm)}
    streak_rows = []
    for rule in rules:
        st = streaks.get(rule.pk)
        minutes = (
            int((vm.last_sample_at - st.start_ts).total_seconds() // 60)
            if st and vm.last_sample_at
            else 0
        )
        total = int(rule.duration.total_seconds() // 60)
        streak_rows.append({
            "rule": rule, "label": format_threshold(rule.metric, rule.threshold),
            "minutes": min(minutes, total) if st else 0, "elapsed": minutes, "total": total,
            "fired": bool(st and st.fired_at), "open": st is not None,
        })  # fmt: skip
    return {
        "version": version,
        "charts": charts,
        "latest": latest,
        "incidents": incidents,
        "streaks": streak_rows,
        "actions": list(
            Action.objects.filter(vm=vm).select_related("incident__rule", "requested_by")[:20]
        ),
        "exemptions": list(
            Exemption.objects.filter(Q(vm=vm) | Q(school_id=vm.school_id), ends_at__gt=now)
            if vm.school_id
            else Exemption.objects.filter(vm=vm, ends_at__gt=now)
        ),  # fmt: skip
        "state_changes": list(vm.state_changes.select_related("actor")[:10]),
    }


def vm_page_body(vm, now=None):
    """The VM page's read-only sections (streaks, charts, incidents, actions, exemptions) as HTML,
    the same for every reader: a cached fragment (portal/fragments.py) for the minute, keyed on the
    VM's state, school and latest sample, and dropped sooner when an incident, action, exemption,
    state change or policy version is saved (ROOM_COUNTER, apps.py). The evaluator's bulk writes
    move ROOM_COUNTER too; anything else shows within the minute, as the charts do."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0).isoformat()
    parts = ("vm-body", vm.pk, vm.state, vm.school_id,
             vm.last_sample_at and vm.last_sample_at.isoformat(), minute)  # fmt: skip
    return fragments.fragment(
        parts,
        (ROOM_COUNTER,),
        lambda: render_to_string("vmquota/_vm_body.html", {"vm": vm, **vm_page(vm, now=now)}),
        timeout=CHARTS_CACHE_SECONDS,
    )


def incident_page(incident):
    """What an incident page shows: the streak, its end, and what was done about it, by whom –
    as one time line. Resumes and state changes belong to the VM, not to an incident: those
    from the streak's start until the VM next runs again after a suspension are shown."""
    actions = list(
        Action.objects.filter(incident=incident)
        .select_related("requested_by", "folded_into__incident__rule")
        .order_by("created_at", "pk")
    )
    changes, paused = [], False
    for change in incident.vm.state_changes.filter(at__gte=incident.streak_start).select_related(
        "actor").order_by("at", "pk")[:20]:  # fmt: skip
        changes.append(change)
        paused = paused or change.new == "paused"
        if paused and change.new == "running":
            break
    resumes = []
    if paused:  # the resume that ended the suspension (or one still pending)
        resumes = Action.objects.filter(vm=incident.vm, kind="resume",
                                        created_at__gte=incident.fired_at)  # fmt: skip
        if changes[-1].new == "running":
            resumes = resumes.filter(created_at__lte=changes[-1].at)
        resumes = list(resumes.select_related("requested_by")[:5])
    timeline = [
        (incident.streak_start, "連續開始", f"第一筆達到門檻的數值 {incident.first_value:g}", "")
    ]
    timeline.append(
        (incident.fired_at, "達到條件（觸發）", f"觸發時數值 {incident.fired_value:g}", "")
    )
    for a in actions + resumes:
        by = a.requested_by.display_name if a.requested_by else "系統"
        if a.status == "folded" and a.folded_into:
            what = f"併入「{a.folded_into.incident.rule}」的暫停通知"
        else:
            what = a.get_status_display()
        timeline.append((a.finished_at or a.created_at, a.get_kind_display(),
                         "；".join(filter(None, [what, a.note])), by))  # fmt: skip
    for c in changes:
        by = c.actor.display_name if c.actor else "系統"
        timeline.append((c.at, f"{c.get_old_display()} → {c.get_new_display()}", c.reason, by))
    if incident.ended_at:
        timeline.append((incident.ended_at, "結束", incident.get_end_reason_display(), ""))
    if incident.withdrawn_at:
        timeline.append((incident.withdrawn_at, "撤銷", "遲到資料顯示未達門檻", ""))
    timeline.sort(key=lambda row: row[0])
    return {"incident": incident, "actions": actions, "resumes": resumes, "changes": changes,
            "timeline": timeline}  # fmt: skip


def district_page(district, now=None):
    """A district convener's view of the VM room: the district's open incidents, its suspended
    VMs, the incidents that ended in the last 7 days, and its schools' VMs."""
    now = now or timezone.now()
    base = Incident.objects.filter(
        vm__school__district=district, withdrawn_at__isnull=True
    ).select_related("vm__school", "rule")
    return {
        "district": district,
        "open": list(base.filter(ended_at__isnull=True).order_by("-fired_at")[:100]),
        "recent": list(
            base.filter(ended_at__gte=now - timedelta(days=7)).order_by("-ended_at")[:50]
        ),
        "suspended": list(
            VirtualMachine.objects.filter(school__district=district, state="paused")
            .select_related("school")
            .order_by("name")
        ),  # fmt: skip
        "vms": list(
            VirtualMachine.objects.filter(school__district=district)
            .select_related("school")
            .annotate(
                open_incidents=Count(
                    "incidents",
                    filter=Q(
                        incidents__ended_at__isnull=True, incidents__withdrawn_at__isnull=True
                    ),
                )
            )
            .order_by("school__code", "name")
        ),  # fmt: skip
    }


def school_vms(school):
    return (
        VirtualMachine.objects.filter(school=school)
        .select_related("hypervisor")
        .annotate(
            open_incidents=Count(
                "incidents",
                filter=Q(incidents__ended_at__isnull=True, incidents__withdrawn_at__isnull=True),
            )
        )  # fmt: skip
        .order_by("name")
    )


def board(now=None):
    now = now or timezone.now()
    base = Incident.objects.filter(withdrawn_at__isnull=True).select_related("vm__school", "rule")
    return {
        "open": list(base.filter(ended_at__isnull=True).order_by("-fired_at")[:100]),
        "recent": list(
            base.filter(ended_at__gte=now - timedelta(days=7)).order_by("-ended_at")[:50]
        ),
        "suspended": list(
            VirtualMachine.objects.filter(state="paused").select_related("school").order_by("name")
        ),
        "failed": list(
            Action.objects.filter(status="failed").select_related("vm", "incident__rule")[:50]
        ),
        "pending_count": Action.objects.filter(status__in=["pending", "running"]).count(),
    }


def latest_announcement():
    return (
        PolicyVersion.objects.filter(published_at__isnull=False).order_by("-published_at").first()
    )


# /healthz names the evaluation when failures were recorded in this many cycles within the window
# (one failure is audited and skipped; the same failure every cycle is something to look at)
EVALUATION_FAILURE_WINDOW = timedelta(minutes=10)
EVALUATION_FAILING_CYCLES = 2


def evaluation_health(now=None):
    """None, or what keeps failing in the evaluation (portal/health.py; the audit records each
    failure: evaluation_runner.evaluation_failed)."""
    since = (now or timezone.now()) - EVALUATION_FAILURE_WINDOW
    failures = list(
        AuditEvent.objects.filter(action="vmquota.evaluation_failed", at__gte=since).values_list(
            "detail", flat=True
        )[:500]
    )
    cycles = {detail.get("cycle") for detail in failures}
    if len(cycles) < EVALUATION_FAILING_CYCLES:
        return None
    vms = {detail["vm"] for detail in failures if detail.get("vm") is not None}
    shards = {detail.get("shard") for detail in failures if detail.get("vm") is None}
    minutes = int(EVALUATION_FAILURE_WINDOW.total_seconds() // 60)
    # counts only: /healthz answers anyone; the audit log names the VMs and the errors
    return (
        f"最近 {minutes} 分鐘內 {len(cycles)} 次評估有失敗（{len(vms)} 台虛擬機、"
        f"{len(shards)} 個分片整批失敗），詳見稽核紀錄 vmquota.evaluation_failed"
    )


def collector_token_issued():
    """The bureau's first-run checklist: a collector can post samples."""
    return CollectorToken.objects.filter(revoked_at__isnull=True).exists()


# A week's and a month's charts: periods of the rollup's 5-minute maxima, a few hundred each.
HISTORY_STEPS = {7: timedelta(minutes=30), 30: timedelta(hours=2)}


def vm_history(vm, days, now=None):
    """A VM's charts over the last `days` (7 or 30) from the rollup, and how many minutes of this
    month (Taipei) its samples were at or over each rule's threshold."""
    now = now or timezone.now()
    start, step = now - timedelta(days=days), HISTORY_STEPS[days]
    version = _active_version(now)
    rules = list(version.rules.all()) if version else []
    rows = rollup.maxima(vm, start, now, step)
    shaded = [
        i
        for i in Incident.objects.filter(vm=vm, withdrawn_at__isnull=True, observe_only=False)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .select_related("rule")
    ]
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    over = rollup.minutes_over(vm, rules, month_start, now)
    return {
        "days": days,
        "charts": vm_charts(rows, start, now, rules, shaded, days=days, step=step),
        "rows": len(rows),
        "month_start": month_start,
        "minutes_over": [
            {
                "label": format_threshold(r.metric, r.threshold),
                "action": r.get_action_display(),
                "minutes": over[r.pk],
                "duration": int(r.duration.total_seconds() // 60),
            }
            for r in rules
        ],  # fmt: skip
    }
