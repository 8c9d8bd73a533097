"""The live evaluator: feeds the samples stored since the last cycle to the pure
`evaluation.VmEvaluator`, with its state loaded from the database, and stores what it decides
(incidents, their first actions, the open streaks).

Evaluation is split into shards by vm_id modulo EVALUATION_SHARDS (models.py: the sample table's
shard index is built on the same expression). Each shard has its own cursor row
(EvaluationCursor pk = shard + 1) which a worker claims with SELECT … FOR UPDATE SKIP LOCKED for
the length of its transaction: several processes share a cycle, none evaluates a VM another is
evaluating, and a busy shard is left to the worker holding it. New cursor rows start at the
lowest stored cursor: samples seen twice are late samples, handled by the rewind, so nothing is
judged twice.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from portal import fragments
from portal.audit import record

from . import evaluation
from .actions import ALERT_TOLD, actions_queue, fold_alerts, hand_over
from .exemptions import covers, exemption_for, exemptions_at
from .models import (
    EVALUATION_SHARDS,
    SAMPLES_LOCK,
    Action,
    ActionKind,
    ActionStatus,
    EvaluationCursor,
    Incident,
    StreakState,
    UsageSample,
    VirtualMachine,
)
from .policy import active_version, rule_specs
from .selectors import ROOM_COUNTER

log = logging.getLogger("vmquota")


def committed_horizon():
    """The highest sample id such that every sample with a lower id is committed (or rolled
    back), so the cursor never passes a row it has not read. Every insert holds SAMPLES_LOCK
    shared until it commits (UsageSample); taking it exclusively for an instant waits for them.
    SQLite serialises writers, so its current maximum id is safe."""
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


def _fire(vm, rule, ev, pending):
    incident, created = Incident.objects.get_or_create(
        vm=vm, rule=rule, streak_start=ev.streak_start,
        defaults={"fired_at": ev.at, "first_value": ev.start_value, "fired_value": ev.value},
    )  # fmt: skip
    if not created:
        return incident
    exemption = exemption_for(vm, ev.at)
    if exemption is not None:
        incident.exempted, incident.exemption = True, exemption
        incident.save(update_fields=["exempted", "exemption"])
        return incident
    if rule.mode == "observe":
        # "would alert / would suspend": the incident row is the record, nothing else happens
        incident.observe_only = True
        incident.save(update_fields=["observe_only"])
        return incident
    action, _ = Action.objects.get_or_create(
        incident=incident, kind=rule.action, seq=0, defaults={"vm": vm}
    )
    pending.append(action)
    return incident


def _end(vm, rule, ev, pending):
    incident = Incident.objects.filter(
        vm=vm, rule=rule, streak_start=ev.streak_start, ended_at__isnull=True
    ).first()
    if incident is None:
        return
    incident.ended_at, incident.end_reason = ev.at, ev.end_reason
    incident.last_sample_at = ev.last_sample_at
    incident.save(update_fields=["ended_at", "end_reason", "last_sample_at"])
    if ev.end_reason == "recovered" and rule.action == "alert" and not incident.exempted:
        if incident.actions.filter(ALERT_TOLD).exists():
            action, created = Action.objects.get_or_create(
                incident=incident, kind=ActionKind.RESOLVED, seq=0, defaults={"vm": vm}
            )
            if created:
                pending.append(action)
    # a no_data end sends nothing: we do not know that it recovered


class _EventBatch:
    """The fired/ended events of one shard's pass, applied in a few statements at the end.

    Order is kept where it matters: every fire is applied before any end, and an end always
    follows its own streak's fire, so an end finds the incident whether it fired in this pass or
    earlier. The semantics are those of `_fire` / `_end`, row for row."""

    def __init__(self):
        self.fires, self.ends = [], []

    def add(self, vm, rule, event):
        (self.fires if event.kind == "fired" else self.ends).append((vm, rule, event))

    def flush(self, pending):
        self._fire_all(pending)
        self._end_all(pending)

    @staticmethod
    def _incidents(keys):
        """{(vm_id, rule_id, streak_start): Incident} for the given keys (one query)."""
        if not keys:
            return {}
        rows = Incident.objects.filter(
            vm_id__in={k[0] for k in keys}, rule_id__in={k[1] for k in keys},
            streak_start__in={k[2] for k in keys},
        )  # fmt: skip
        wanted = set(keys)
        return {k: i for i in rows if (k := (i.vm_id, i.rule_id, i.streak_start)) in wanted}

    def _fire_all(self, pending):
        if not self.fires:
            return
        keys = [(vm.pk, rule.pk, ev.streak_start) for vm, rule, ev in self.fires]
        existing = self._incidents(keys)
        new = [(vm, rule, ev) for (vm, rule, ev), k in zip(self.fires, keys, strict=True)
               if k not in existing]  # fmt: skip
        if not new:
            return
        times = [ev.at for _, _, ev in new]
        exemptions = exemptions_at(min(times), max(times))
        rows = []
        for vm, rule, ev in new:
            exemption = next((e for e in exemptions if covers(e, vm, ev.at)), None)
            rows.append(Incident(
                vm=vm, rule=rule, streak_start=ev.streak_start, fired_at=ev.at,
                first_value=ev.start_value, fired_value=ev.value,
                exempted=exemption is not None, exemption=exemption,
                observe_only=exemption is None and rule.mode == "observe",
            ))  # fmt: skip
        Incident.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        if rows:  # bulk writes send no signal: the home block's counter, by hand
            fragments.changed(ROOM_COUNTER)
        created = self._incidents([(i.vm_id, i.rule_id, i.streak_start) for i in rows])
        acting = [i for i in created.values() if not i.exempted and not i.observe_only]
        rules = {rule.pk: rule for _, rule, _ in new}
        Action.objects.bulk_create(
            [Action(incident=i, kind=rules[i.rule_id].action, seq=0, vm_id=i.vm_id)
             for i in acting],
            ignore_conflicts=True, batch_size=2000,
        )  # fmt: skip
        for incident in acting:
            incident.rule = rules[incident.rule_id]  # fold_alerts reads the metric
        by_incident = {i.pk: i for i in acting}
        for action in Action.objects.filter(
            incident_id__in=list(by_incident), seq=0, kind__in=["alert", "suspend"]
        ):
            action.incident = by_incident[action.incident_id]
            pending.append(action)

    def _end_all(self, pending):
        if not self.ends:
            return
        keys = [(vm.pk, rule.pk, ev.streak_start) for vm, rule, ev in self.ends]
        incidents = self._incidents(keys)
        changed, resolvable = [], []
        for (_vm, rule, ev), key in zip(self.ends, keys, strict=True):
            incident = incidents.get(key)
            if incident is None or incident.ended_at is not None:
                continue
            incident.ended_at, incident.end_reason = ev.at, ev.end_reason
            incident.last_sample_at = ev.last_sample_at
            changed.append(incident)
            if ev.end_reason == "recovered" and rule.action == "alert" and not incident.exempted:
                resolvable.append(incident)
        Incident.objects.bulk_update(
            changed, ["ended_at", "end_reason", "last_sample_at"], batch_size=1000
        )
        if changed:
            fragments.changed(ROOM_COUNTER)
        # a "resolved" e-mail only where the alert went out (see ALERT_TOLD); a no_data end sends
        # nothing: we do not know that it recovered
        told = set(
            Action.objects.filter(ALERT_TOLD, incident__in=resolvable)
            .values_list("incident_id", flat=True)
        ) if resolvable else set()  # fmt: skip
        if told:
            Action.objects.bulk_create(
                [Action(incident=i, kind=ActionKind.RESOLVED, seq=0, vm_id=i.vm_id)
                 for i in resolvable if i.pk in told],
                ignore_conflicts=True,
            )  # fmt: skip
            pending.extend(
                Action.objects.filter(
                    incident_id__in=told, kind=ActionKind.RESOLVED, seq=0,
                    status=ActionStatus.PENDING,
                ).select_related("incident__rule")
            )  # fmt: skip


def _bulk_set_last_sample(updates):
    if not updates:
        return
    if connection.vendor == "postgresql":
        ids, tss = zip(*updates.items(), strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE vmquota_virtualmachine v SET last_sample_at = u.ts FROM "
                "unnest(%s::bigint[], %s::timestamptz[]) AS u(id, ts) WHERE v.id = u.id",
                [list(ids), list(tss)],
            )
        return
    VirtualMachine.objects.bulk_update(
        [VirtualMachine(pk=pk, last_sample_at=ts) for pk, ts in updates.items()],
        ["last_sample_at"],
        batch_size=500,
    )


def _ensure_shards():
    """Create missing shard cursors, all at the lowest stored position (everything below it has
    been evaluated; a sample seen again is a late sample for the rewind, never judged twice)."""
    have = set(EvaluationCursor.objects.values_list("pk", flat=True))
    missing = [pk for pk in range(1, EVALUATION_SHARDS + 1) if pk not in have]
    if missing:
        start = (
            EvaluationCursor.objects.order_by("last_sample_id")
            .values_list("last_sample_id", flat=True)
            .first()
        ) or 0
        EvaluationCursor.objects.bulk_create(
            [EvaluationCursor(pk=pk, last_sample_id=start) for pk in missing],
            ignore_conflicts=True,
        )


def _claim_shard(shard):
    """Lock this shard's cursor row (inside a transaction), or None if another worker holds it."""
    claim = EvaluationCursor.objects.select_for_update(skip_locked=True).filter(pk=shard + 1)
    row = claim.first()
    if row is None and not EvaluationCursor.objects.filter(pk=shard + 1).exists():
        _ensure_shards()
        row = claim.first()
    return row


def _in_shard(queryset, field, shard):
    return queryset.annotate(_shard=F(field) % EVALUATION_SHARDS).filter(_shard=shard)


def evaluate_cycle(*, now=None, batch=200_000, shards=None):
    """Evaluate the samples stored since the last cycle, shard by shard (all shards, or the
    given ones), skipping shards another worker holds. Safe to run twice or in several
    processes at once. Returns summed stats, with `shards` = how many this call evaluated."""
    total = {"samples": 0, "vms": 0, "fired": 0, "ended": 0, "late_vms": 0, "failed_vms": 0,
             "shards": 0, "failed_shards": 0}  # fmt: skip
    _ensure_shards()  # before any shard moves on, so a new one starts from the right place
    now = now or timezone.now()
    policy = _policy_context(now)  # the same for every shard of this call
    for shard in range(EVALUATION_SHARDS) if shards is None else shards:
        try:
            stats = evaluate_shard(shard, now=now, batch=batch, policy=policy)
        except (OperationalError, InterfaceError):
            raise  # the database is away: no shard can be evaluated, the task is retried
        except Exception as exc:  # noqa: BLE001 – one shard's failure must not stop the others
            # its transaction rolled back: the cursor stays, the next cycle tries it again
            evaluation_failed(exc, shard=shard, cycle=now)
            total["failed_shards"] += 1
            continue
        if stats is not None:
            total["shards"] += 1
            for key, value in stats.items():
                total[key] += value
    return total


class _StreakWrites:
    """The StreakState changes of one shard's cycle, written in three statements at the end."""

    def __init__(self):
        self.delete, self.create, self.fired = [], [], []

    def plan(self, vm_id, before, after, rows):
        for key in before.keys() - after.keys():
            self.delete.append(rows[key].pk)
        for key, streak in after.items():
            old = before.get(key)
            if old is None or old[0] != streak.start:
                if key in rows:
                    self.delete.append(rows[key].pk)
                self.create.append(StreakState(
                    vm_id=vm_id, rule_id=key, start_ts=streak.start,
                    start_value=streak.start_value, fired_at=streak.fired_at,
                ))  # fmt: skip
            elif old[1] != streak.fired_at:
                self.fired.append(StreakState(pk=rows[key].pk, fired_at=streak.fired_at))

    def flush(self):
        if self.delete:
            StreakState.objects.filter(pk__in=self.delete).delete()
        if self.create:
            StreakState.objects.bulk_create(self.create, batch_size=5000)
        if self.fired:
            StreakState.objects.bulk_update(self.fired, ["fired_at"], batch_size=1000)


def evaluation_failed(exc, *, cycle, shard, vm=None):
    """Log and audit a failure of the evaluation: of one VM's data (the VM is skipped, the rest
    of its shard evaluated) or of a whole shard. /healthz names an evaluation that keeps
    failing (selectors.evaluation_health)."""
    where = f"虛擬機 {vm.name}" if vm is not None else f"分片 {shard}"
    log.error("vmquota: evaluation of %s failed", where, exc_info=exc)
    record(
        "vmquota.evaluation_failed", target=where, shard=shard, vm=vm.pk if vm else None,
        error=f"{type(exc).__name__}: {exc}"[:500], cycle=cycle.isoformat(),
    )  # fmt: skip


def _savepoint_or_failure(fn, *, cycle, shard, vm):
    """fn() inside a savepoint; on an error of the data, audit it and return the exception (the
    savepoint rolled back whatever fn wrote, the transaction goes on)."""
    try:
        with transaction.atomic():
            fn()
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # noqa: BLE001 – whatever the VM's data does, the others go on
        evaluation_failed(exc, cycle=cycle, shard=shard, vm=vm)
        return exc
    return None


def _read_new_samples(shard, after, horizon, cycle):
    """{vm_id: [(ts, cpu, net)]} of the shard's samples with after < id <= horizon, and the ids
    of VMs whose samples could not be read. A row the driver cannot turn into Python (a time
    PostgreSQL holds but Python cannot, written past the API) fails the whole read: then each
    VM's rows are read apart, so only that VM is skipped."""
    new = _in_shard(
        UsageSample.objects.filter(id__gt=after, id__lte=horizon), "vm_id", shard
    ).order_by()
    by_vm, unreadable = defaultdict(list), set()
    try:  # no savepoint (two more statements a shard, every cycle): a row the driver cannot
        # convert fails on this side, and the transaction goes on
        rows = list(new.values_list("vm_id", "ts", "cpu_percent", "net_kbps"))
    except DatabaseError:
        raise  # refused by the server: the shard's transaction is lost (evaluate_cycle audits)
    except Exception:  # noqa: BLE001 – read VM by VM below
        vm_ids = list(new.values_list("vm_id", flat=True).distinct())
        names = dict(VirtualMachine.objects.filter(pk__in=vm_ids).values_list("pk", "name"))
        for vm_id in vm_ids:
            vm = VirtualMachine(pk=vm_id, name=names.get(vm_id, str(vm_id)))
            read = new.filter(vm_id=vm_id).values_list("ts", "cpu_percent", "net_kbps")
            failure = _savepoint_or_failure(
                lambda read=read, vm_id=vm_id: by_vm[vm_id].extend(read),
                cycle=cycle, shard=shard, vm=vm,
            )  # fmt: skip
            if failure is not None:
                by_vm.pop(vm_id, None)
                unreadable.add(vm_id)
        return by_vm, unreadable
    for vm_id, ts, cpu, net in rows:
        by_vm[vm_id].append((ts, cpu, net))
    return by_vm, unreadable


def _policy_context(now):
    version = active_version(now)
    rules = list(version.rules.all()) if version else []
    specs = rule_specs(version, rules) if version else []
    return version, rules, specs


def evaluate_shard(shard, *, now=None, batch=200_000, policy=None):
    """One shard's cycle; None when another worker holds the shard."""
    now = now or timezone.now()
    version, rules, specs = policy or _policy_context(now)
    rules_by_pk = {r.pk: r for r in rules}
    max_gap = version.max_gap if version else evaluation.DEFAULT_MAX_GAP
    grace = timedelta(seconds=settings.VMQUOTA_NO_DATA_GRACE_SECONDS)
    stats = {"samples": 0, "vms": 0, "fired": 0, "ended": 0, "late_vms": 0, "failed_vms": 0}
    pending = []
    with transaction.atomic():
        cursor = _claim_shard(shard)
        if cursor is None:
            return None
        horizon = min(committed_horizon(), cursor.last_sample_id + batch)
        by_vm, unreadable = _read_new_samples(shard, cursor.last_sample_id, horizon, now)
        stats["samples"] = sum(len(samples) for samples in by_vm.values())
        stats["vms"] = len(by_vm)
        stats["failed_vms"] = len(unreadable)

        vms = {
            vm.pk: vm
            for vm in VirtualMachine.objects.filter(pk__in=list(by_vm)).only(
                "pk", "school_id", "last_sample_at", "closed_through", "streaks_reset_at", "name"
            )
        } if by_vm else {}  # fmt: skip
        states = defaultdict(dict)
        if by_vm:
            for st in StreakState.objects.filter(vm_id__in=list(by_vm)):
                states[st.vm_id][st.rule_id] = st
        new_last = {}
        late_vms = {}
        writes, events = _StreakWrites(), _EventBatch()
        for vm_id, samples in by_vm.items():
            vm = vms[vm_id]
            try:  # judge first, store after: a VM whose data fails leaves nothing behind
                samples.sort(key=lambda s: s[0])
                if vm.streaks_reset_at is not None and samples[0][0] <= vm.streaks_reset_at:
                    # measured before the VM's suspension, which ended its streaks: never judged
                    samples = [s for s in samples if s[0] > vm.streaks_reset_at]
                    if not samples:
                        continue
                watermark = max(filter(None, [vm.last_sample_at, vm.closed_through]), default=None)
                if watermark is not None and samples[0][0] <= watermark:
                    late_vms[vm_id] = samples[0][0]
                    continue
                ev = evaluation.VmEvaluator(specs, max_gap, vm.last_sample_at, {
                    st.rule_id: evaluation.Streak(st.start_ts, st.start_value, st.fired_at)
                    for st in states[vm_id].values() if st.rule_id in rules_by_pk
                })  # fmt: skip
                before = {k: (s.start, s.fired_at) for k, s in ev.streaks.items()}
                vm_events = [e for ts, cpu, net in samples for e in ev.feed(ts, cpu, net)]
            except Exception as exc:  # noqa: BLE001 – whatever the data is, the others go on
                evaluation_failed(exc, cycle=now, shard=shard, vm=vm)
                stats["failed_vms"] += 1
                continue
            _supersede(vm, states[vm_id], rules_by_pk, version)
            for event in vm_events:
                _apply_event(vm, rules_by_pk[event.rule.key], event, pending, stats, events)
            new_last[vm_id] = ev.last_ts
            writes.plan(vm_id, before, ev.streaks, states[vm_id])
        events.flush(pending)
        writes.flush()
        _bulk_set_last_sample(new_last)
        for vm_id, earliest in late_vms.items():
            vm = vms[vm_id]
            # in a savepoint: a rewind reads and rewrites the VM's stored history
            rewind = lambda vm=vm, earliest=earliest: _rewind(  # noqa: E731
                vm, earliest, rules, version, horizon, pending, stats
            )
            if _savepoint_or_failure(rewind, cycle=now, shard=shard, vm=vm) is not None:
                stats["failed_vms"] += 1
        stats["late_vms"] = len(late_vms)
        _close_stale(now - grace, rules_by_pk, specs, max_gap, pending, stats, shard)
        cursor.last_sample_id = max(cursor.last_sample_id, horizon)
        cursor.updated_at = now
        cursor.save()
        fold_alerts(pending)
        still_pending = set(
            Action.objects.filter(pk__in=[a.pk for a in pending], status=ActionStatus.PENDING)
            .values_list("pk", flat=True)
        ) if pending else set()  # fmt: skip
        actions_queue([a for a in pending if a.pk in still_pending])
    return stats


def _apply_event(vm, rule, event, pending, stats, batch=None):
    if batch is not None:
        batch.add(vm, rule, event)
        stats["fired" if event.kind == "fired" else "ended"] += 1
        return
    if event.kind == "fired":
        _fire(vm, rule, event, pending)
        stats["fired"] += 1
    else:
        _end(vm, rule, event, pending)
        stats["ended"] += 1


def _supersede(vm, vm_states, rules_by_pk, version):
    """Streaks of rules from an older version end when a new version takes effect."""
    for rule_id in [k for k in vm_states if k not in rules_by_pk]:
        st = vm_states.pop(rule_id)
        Incident.objects.filter(
            vm=vm, rule_id=rule_id, streak_start=st.start_ts, ended_at__isnull=True
        ).update(ended_at=version.effective_from if version else timezone.now(),
                 end_reason="superseded")  # fmt: skip
        st.delete()


def _rewind(vm, earliest, rules, version, horizon, pending, stats):
    """A late sample (at or before what was already evaluated): re-evaluate each rule from the
    latest stored sample before it that did not meet the rule – everything before that point
    is unaffected – and reconcile the incidents with what a replay from scratch gives."""
    max_gap = version.max_gap if version else evaluation.DEFAULT_MAX_GAP
    vm_samples = UsageSample.objects.filter(vm=vm, id__lte=horizon)
    last_ts = None
    reset = VirtualMachine.objects.filter(pk=vm.pk).values_list("streaks_reset_at", flat=True)[0]
    for rule in rules:
        spec = rule_specs(version, [rule])[0]
        base = vm_samples.filter(ts__gte=version.effective_from)
        if reset is not None:  # a suspension ended every streak there, for good
            base = base.filter(ts__gt=reset)
        breaker = (
            base.filter(ts__lt=earliest, **{f"{rule.metric}__lt": rule.threshold})
            .order_by("-ts")
            .values_list("ts", flat=True)
            .first()
        )
        tail = base.filter(ts__gt=breaker) if breaker else base
        ev = evaluation.VmEvaluator([spec], max_gap, breaker)
        acc = {}
        for ts, cpu, net in tail.order_by("ts").values_list("ts", "cpu_percent", "net_kbps"):
            evaluation.apply_events(acc, vm.pk, ev.feed(ts, cpu, net))
            last_ts = ts if last_ts is None or ts > last_ts else last_ts
        wanted = {inc.streak_start: inc for inc in acc.get("all", [])}
        existing = Incident.objects.filter(vm=vm, rule=rule, withdrawn_at__isnull=True)
        if reset is not None:
            existing = existing.filter(streak_start__gt=reset)
        if breaker:
            existing = existing.filter(streak_start__gt=breaker)
        for incident in existing:
            inc = wanted.pop(incident.streak_start, None)
            if inc is None:
                incident.withdrawn_at = timezone.now()
                incident.save(update_fields=["withdrawn_at"])
                withdrawn = list(incident.actions.filter(status=ActionStatus.PENDING))
                incident.actions.filter(pk__in=[a.pk for a in withdrawn]).update(
                    status=ActionStatus.SKIPPED, note="遲到資料顯示未達門檻，事件撤銷"
                )
                for action in withdrawn:
                    if action.kind == ActionKind.SUSPEND:
                        action.incident = incident
                        pending.extend(hand_over(action, ""))
                continue
            changed = (incident.fired_at, incident.ended_at, incident.end_reason or None) != (
                inc.fired_at, inc.ended_at, inc.end_reason)  # fmt: skip
            if changed:
                incident.fired_at, incident.fired_value = inc.fired_at, inc.fired_value
                incident.ended_at, incident.end_reason = inc.ended_at, inc.end_reason or ""
                incident.last_sample_at = inc.last_sample_at
                incident.save()
        for inc in wanted.values():
            fired = evaluation.Event("fired", spec, inc.streak_start, inc.fired_at,
                                     value=inc.fired_value, start_value=inc.first_value)  # fmt: skip
            incident = _fire(vm, rule, fired, pending)
            stats["fired"] += 1
            if inc.ended_at is not None:
                incident.ended_at, incident.end_reason = inc.ended_at, inc.end_reason
                incident.last_sample_at = inc.last_sample_at
                incident.save(update_fields=["ended_at", "end_reason", "last_sample_at"])
        StreakState.objects.filter(vm=vm, rule=rule).delete()
        streak = ev.streaks.get(rule.pk)
        if streak is not None:
            StreakState.objects.create(vm=vm, rule=rule, start_ts=streak.start,
                                       start_value=streak.start_value, fired_at=streak.fired_at)  # fmt: skip
    newest = vm_samples.order_by("-ts").values_list("ts", flat=True).first()
    VirtualMachine.objects.filter(pk=vm.pk).update(last_sample_at=newest, closed_through=None)


def _close_stale(as_of, rules_by_pk, specs, max_gap, pending, stats, shard):
    """No data for longer than max_gap (+ a grace for delivery): end the open streaks."""
    stale = _in_shard(
        StreakState.objects.filter(
            rule_id__in=list(rules_by_pk), vm__last_sample_at__lt=as_of - max_gap
        ),
        "vm_id",
        shard,
    ).select_related("vm")
    by_vm = defaultdict(list)
    for st in stale:
        by_vm[st.vm_id].append(st)
    for sts in by_vm.values():
        vm = sts[0].vm
        ev = evaluation.VmEvaluator(specs, max_gap, vm.last_sample_at, {
            st.rule_id: evaluation.Streak(st.start_ts, st.start_value, st.fired_at) for st in sts
        })  # fmt: skip
        for event in ev.close_stale(as_of):
            _apply_event(vm, rules_by_pk[event.rule.key], event, pending, stats)
        StreakState.objects.filter(pk__in=[st.pk for st in sts]).delete()
        # a sample at or before this point arriving later goes through the rewind path
        VirtualMachine.objects.filter(pk=vm.pk).update(closed_through=as_of)
