"""Writes of the vmquota app: plain functions named <noun>_<verb>(*, …).

The live evaluator (`evaluate_cycle`) feeds new samples to the pure `evaluation.VmEvaluator`
with its state loaded from the database, and stores what it decides. Actions are rows claimed
with a conditional UPDATE, so a task that runs twice never acts twice.
"""

import logging
import threading
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from portal import fragments
from portal.audit import record
from portal.mail import send_email
from portal.models import Role

from . import evaluation
from .hypervisors import HypervisorError, get_adapter
from .ingest import committed_horizon
from .models import (
    EVALUATION_SHARDS,
    Action,
    ActionKind,
    ActionStatus,
    CollectorToken,
    EvaluationCursor,
    Exemption,
    Incident,
    Policy,
    PolicyVersion,
    Rule,
    RuleAction,
    StreakState,
    UsageSample,
    VirtualMachine,
    VmStateChange,
    describe_rule,
)
from .selectors import ROOM_COUNTER

log = logging.getLogger("vmquota")

# --- policy ---------------------------------------------------------------------------------


def active_version(at=None):
    at = at or timezone.now()
    return (
        PolicyVersion.objects.filter(published_at__isnull=False, effective_from__lte=at)
        .order_by("-effective_from", "-number")
        .first()
    )


def rule_specs(version, rules=None):
    rules = rules if rules is not None else list(version.rules.all())
    return [
        evaluation.RuleSpec(
            key=r.pk, metric=r.metric, threshold=r.threshold, duration=r.duration,
            action=r.action, mode=r.mode, effective_from=version.effective_from,
        )
        for r in rules
    ]  # fmt: skip


def policy_version_create(*, actor, effective_from, announcement, max_gap, rules, publish):
    """rules: [{"metric", "threshold", "duration", "action", "mode"}]. A published version
    e-mails every coordinator (after commit) and shows on the home page."""
    with transaction.atomic():
        policy, _ = Policy.objects.get_or_create(pk=1)
        number = (
            policy.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        version = PolicyVersion.objects.create(
            policy=policy, number=number, effective_from=effective_from,
            announcement=announcement, max_gap=max_gap, changed_by=actor,
            published_at=timezone.now() if publish else None,
        )  # fmt: skip
        Rule.objects.bulk_create([Rule(version=version, **r) for r in rules])
        record("vmquota.policy_published" if publish else "vmquota.policy_drafted",
               actor=actor, target=f"policy version {number}", rules=len(rules))  # fmt: skip
        if publish:
            from .tasks import notify_policy

            transaction.on_commit(lambda: notify_policy.delay(version.pk))
    return version


def policy_notify(*, version_id):
    version = PolicyVersion.objects.prefetch_related("rules").get(pk=version_id)
    User = get_user_model()
    emails = sorted(
        set(
            User.objects.filter(is_active=True, memberships__role=Role.COORDINATOR)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    # one message per recipient: coordinators do not see each other's addresses
    for email in emails:
        send_email("vmquota_policy", {"version": version, "rules": version.rules.all()}, [email])
    return len(emails)


# --- evaluation -----------------------------------------------------------------------------


def _exemption_for(vm, at):
    return (
        Exemption.objects.filter(starts_at__lte=at, ends_at__gt=at)
        .filter(Q(vm=vm) | Q(school_id=vm.school_id) if vm.school_id else Q(vm=vm))
        .first()
    )


class _Changes:
    """What one evaluation pass decided, to be written at the end."""

    def __init__(self):
        self.fired = []  # (vm_id, Event)
        self.ended = []  # (vm_id, Event)


def _fire(vm, rule, ev, pending):
    incident, created = Incident.objects.get_or_create(
        vm=vm, rule=rule, streak_start=ev.streak_start,
        defaults={"fired_at": ev.at, "first_value": ev.start_value, "fired_value": ev.value},
    )  # fmt: skip
    if not created:
        return incident
    exemption = _exemption_for(vm, ev.at)
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
        exemptions = list(  # newest first, as _exemption_for picks
            Exemption.objects.filter(starts_at__lte=max(times), ends_at__gt=min(times))
        )
        rows = []
        for vm, rule, ev in new:
            exemption = next(
                (e for e in exemptions if e.starts_at <= ev.at < e.ends_at
                 and (e.vm_id == vm.pk or (vm.school_id and e.school_id == vm.school_id))),
                None,
            )  # fmt: skip
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
            incident.rule = rules[incident.rule_id]  # _fold_alerts reads the metric
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


# Folding. A pending alert for the same VM and metric as a suspension is held by it, so that the
# school gets one e-mail, not an alert and then a suspension notice. The suspension's action then
# owes the school that alert: whatever becomes of it – done, skipped because the streak ended
# first (a worker killed mid-way and requeued late), failed – exactly one e-mail carries the
# alerts it holds (`_hand_over`). Held alerts are never dropped with the suspension.

# an alert the school has been told of: sent, or folded into an e-mail that was sent
ALERT_TOLD = Q(kind=ActionKind.ALERT) & (
    Q(status=ActionStatus.DONE)
    | Q(status=ActionStatus.FOLDED, folded_into__status=ActionStatus.DONE)
)


def _fold(alerts, carrier):
    """Fold these alerts (a queryset) into `carrier`'s e-mail. What they held moves along, so
    every held alert is one step from the action that will send it."""
    ids = list(alerts.exclude(pk=carrier.pk).values_list("pk", flat=True))
    if not ids:
        return
    Action.objects.filter(pk__in=ids).update(
        status=ActionStatus.FOLDED, folded_into=carrier, finished_at=timezone.now()
    )
    Action.objects.filter(folded_into_id__in=ids).update(folded_into=carrier)


def _pending_alerts_like(suspend):
    return Action.objects.filter(
        vm_id=suspend.vm_id, kind=ActionKind.ALERT, status=ActionStatus.PENDING,
        incident__rule__metric=suspend.incident.rule.metric,
    )  # fmt: skip


def _fold_alerts(pending):
    """A pending alert for the same VM and metric as a new suspension goes into its notice."""
    for suspend in [a for a in pending if a.kind == ActionKind.SUSPEND]:
        _fold(_pending_alerts_like(suspend), suspend)


def _hand_over(suspend, reason):
    """A suspension that did not happen still tells the school, exactly once: an alert row for its
    own incident (one per incident: the unique (incident, kind, seq)) takes over the alerts it
    held and is sent as the notice that the VM was not suspended. A withdrawn incident (late data
    showed no streak) hands nothing of its own over: its held alerts of other streaks go back to
    pending. Call inside the transaction that ends the suspension; returns the actions to queue."""
    held = Action.objects.filter(folded_into=suspend, status=ActionStatus.FOLDED)
    incident = suspend.incident
    if incident.withdrawn_at is None:
        alert, created = Action.objects.get_or_create(
            incident=incident, kind=ActionKind.ALERT, seq=0,
            defaults={"vm_id": suspend.vm_id, "note": reason},
        )  # fmt: skip
        held.update(folded_into=alert)
        return [alert] if created else []
    released = held.filter(incident__withdrawn_at__isnull=True)
    ids = list(released.values_list("pk", flat=True))
    released.update(status=ActionStatus.PENDING, folded_into=None, finished_at=None)
    return list(Action.objects.filter(pk__in=ids))


def _queue(pending):
    if not pending:
        return
    from .tasks import act

    ids = [a.pk for a in pending]

    def send():
        # the rows are the record: with the broker down, the requeue beat task sends them later
        for pk in ids:
            try:
                act.delay(pk)
            except Exception:  # noqa: BLE001 – any broker error
                log.warning("vmquota: could not queue action %s (broker down?)", pk, exc_info=True)
                return

    transaction.on_commit(send)


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


# Evaluation is split into shards by vm_id modulo EVALUATION_SHARDS. Each shard has its own
# cursor row (EvaluationCursor pk = shard + 1; the former single cursor, pk 1, is shard 0) which a
# worker claims with SELECT … FOR UPDATE SKIP LOCKED for the length of its transaction: several
# processes share a cycle, none evaluates a VM another is evaluating, and a shard that is busy is
# simply left to the worker holding it. Changing the number means new cursor rows: stop the
# workers, change it, and every shard restarts from the lowest stored cursor (samples seen twice
# are late samples, handled by the rewind, so nothing is judged twice).
# EVALUATION_SHARDS lives in models.py: the sample table's shard index is built on it too.


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
                "pk", "school_id", "last_sample_at", "closed_through", "name"
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
        _fold_alerts(pending)
        still_pending = set(
            Action.objects.filter(pk__in=[a.pk for a in pending], status=ActionStatus.PENDING)
            .values_list("pk", flat=True)
        ) if pending else set()  # fmt: skip
        _queue([a for a in pending if a.pk in still_pending])
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
    for rule in rules:
        spec = rule_specs(version, [rule])[0]
        base = vm_samples.filter(ts__gte=version.effective_from)
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
                        pending.extend(_hand_over(action, ""))
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


# --- actions --------------------------------------------------------------------------------


def _coordinator_emails(school_id):
    if school_id is None:
        return []
    User = get_user_model()
    return sorted(
        set(
            User.objects.filter(
                is_active=True, memberships__role=Role.COORDINATOR, memberships__school_id=school_id
            )
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def action_claim(action_id, now=None):
    """pending → running, only if nobody else claimed it (UPDATE … WHERE; row count 1)."""
    now = now or timezone.now()
    return (
        Action.objects.filter(pk=action_id, status=ActionStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=ActionStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1)
        == 1
    )


def _finish(action, status, **fields):
    for k, v in fields.items():
        setattr(action, k, v)
    action.status, action.finished_at = status, timezone.now()
    action.save()


def _set_vm_state(vm, new, reason, actor=None):
    if new and vm.state != new:
        VmStateChange.objects.create(vm=vm, old=vm.state, new=new, reason=reason, actor=actor)
        vm.state = new
    vm.state_checked_at = timezone.now()
    vm.save(update_fields=["state", "state_checked_at"])


def hypervisor_timeout():
    """Seconds a suspend/resume call may take before it counts as a (transient) failure."""
    return float(settings.VMQUOTA_HYPERVISOR_TIMEOUT_S)


def _call_hypervisor(vm, operation):
    """adapter.suspend/resume(vm.uuid) with a time limit. libvirt calls block in C where no
    signal can interrupt them, so the call runs in a daemon thread; on timeout the action is
    retried later and this worker moves on (the stuck thread ends with the connection)."""
    adapter = get_adapter(vm.hypervisor)
    outcome = {}

    def run():
        try:
            outcome["state"] = getattr(adapter, operation)(vm.uuid)
        except BaseException as exc:  # noqa: BLE001 – handed to the caller's thread
            outcome["error"] = exc
        finally:
            connections.close_all()  # this thread's own (the dry-run adapter reads the DB)

    thread = threading.Thread(target=run, name=f"vmquota-{operation}-{vm.pk}", daemon=True)
    thread.start()
    limit = hypervisor_timeout()
    thread.join(limit)
    if thread.is_alive():
        raise HypervisorError(f"虛擬化主機 {limit:g} 秒內沒有回應（{operation}）")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["state"]


# e-mails are never dropped: after the last try they stay pending (retried at the longest
# back-off by the requeue beat) and the operator is told once
MAIL_KINDS = {ActionKind.ALERT, ActionKind.REMINDER, ActionKind.RESOLVED, ActionKind.OPERATOR}


class ActionRetry(Exception):
    def __init__(self, countdown):
        self.countdown = countdown


def action_perform(*, action_id):
    """Carry out one action. Returns its final status, or raises ActionRetry(countdown)."""
    if not action_claim(action_id):
        return "not_claimed"
    action = Action.objects.select_related(
        "vm__school", "vm__hypervisor", "incident__rule", "requested_by"
    ).get(pk=action_id)
    try:
        return _ACTIONS[action.kind](action)
    except Exception as exc:  # noqa: BLE001 – every failure is recorded on the row
        permanent = isinstance(exc, HypervisorError) and exc.permanent
        action.error = f"{type(exc).__name__}: {exc}"[:2000]
        max_attempts = settings.VMQUOTA_ACTION_MAX_ATTEMPTS
        last_try = action.attempts >= max_attempts
        if action.kind in MAIL_KINDS and not permanent:
            if action.attempts == max_attempts:
                _operator_alert(action)
            tries = min(action.attempts, max_attempts)
        elif permanent or last_try:
            with transaction.atomic():
                _finish(action, ActionStatus.FAILED)
                _operator_alert(action)
                if action.kind == ActionKind.SUSPEND:
                    _queue(_hand_over(action, "虛擬化主機無法執行暫停，已通知維運人員"))
            return "failed"
        else:
            tries = action.attempts
        countdown = settings.VMQUOTA_ACTION_RETRY_BASE_S * 2 ** (tries - 1)
        action.status = ActionStatus.PENDING
        action.next_attempt_at = timezone.now() + timedelta(seconds=countdown)
        action.save(update_fields=["status", "error", "next_attempt_at"])
        raise ActionRetry(countdown) from exc


def _incident_context(action):
    incident = action.incident
    ctx = {"vm": action.vm, "action": action, "incident": incident}
    if incident is not None:
        ctx["rule_text"] = describe_rule(incident.rule.metric, incident.rule.threshold,
                                         incident.rule.duration, incident.rule.action)  # fmt: skip
    return ctx


def _do_mail(name, to_school=True, to_ops=True):
    def run(action):
        to = (_coordinator_emails(action.vm.school_id) if to_school else []) + (
            [settings.OPERATIONS_EMAIL] if to_ops else [])  # fmt: skip
        if action.kind == ActionKind.REMINDER and not action.incident.is_open:
            _finish(action, ActionStatus.SKIPPED, note="事件已結束")
            return "skipped"
        send_email(name, _incident_context(action), to)
        _finish(action, ActionStatus.DONE)
        return "done"

    return run


def _do_alert(action):
    """A streak that fired is told once, even if it has ended since the alert was made (a worker
    died, the broker was away): the e-mail then says when it ended. Only a withdrawn incident
    (late data showed there was no streak) sends nothing. An alert of a suspension rule is the
    notice of a suspension that did not happen (`_hand_over`); either carries the alerts folded
    into it."""
    incident = action.incident
    if incident.withdrawn_at is not None:
        _finish(action, ActionStatus.SKIPPED, note="遲到資料顯示未達門檻，事件撤銷")
        return "skipped"
    not_suspended = incident.rule.action == RuleAction.SUSPEND
    ctx = {**_incident_context(action), "folded": _folded_incidents(action),
           "bureau_email": settings.VMQUOTA_RESUME_CONTACT}  # fmt: skip
    send_email("vmquota_not_suspended" if not_suspended else "vmquota_alert", ctx,
               _coordinator_emails(action.vm.school_id) + [settings.OPERATIONS_EMAIL])  # fmt: skip
    _finish(action, ActionStatus.DONE)
    return "done"


def _folded_incidents(action):
    return [a.incident for a in action.folded.select_related("incident__rule").order_by("pk")]


def _do_suspend(action):
    incident, vm = action.incident, action.vm
    if not incident.is_open:
        # never suspend on stale information: the streak already ended – but the school is still
        # told of it, with the alerts this suspension held
        note = "事件在暫停前已結束"
        with transaction.atomic():
            _finish(action, ActionStatus.SKIPPED, note=note)
            _queue(_hand_over(action, note))
        return "skipped"
    observed = _call_hypervisor(vm, "suspend")
    _set_vm_state(vm, observed, f"依規則暫停：{incident.rule}")
    record("vmquota.suspended", target=vm.name, rule=str(incident.rule), observed=observed,
           incident=incident.pk)  # fmt: skip
    _fold(_pending_alerts_like(action), action)
    folded = _folded_incidents(action)
    action.observed_state = observed
    action.save(update_fields=["observed_state"])
    ctx = {**_incident_context(action), "folded": folded,
           "bureau_email": settings.VMQUOTA_RESUME_CONTACT}  # fmt: skip
    send_email("vmquota_suspended", ctx,
               _coordinator_emails(vm.school_id) + [settings.OPERATIONS_EMAIL])  # fmt: skip
    _finish(action, ActionStatus.DONE)
    return "done"


def _do_resume(action):
    vm = action.vm
    observed = _call_hypervisor(vm, "resume")
    _set_vm_state(vm, observed, action.note or "教育局恢復執行", actor=action.requested_by)
    record("vmquota.resumed", actor=action.requested_by, target=vm.name, observed=observed)
    action.observed_state = observed
    action.save(update_fields=["observed_state"])
    send_email("vmquota_resumed", _incident_context(action),
               _coordinator_emails(vm.school_id) + [settings.OPERATIONS_EMAIL])  # fmt: skip
    _finish(action, ActionStatus.DONE)
    return "done"


def _do_operator(action):
    failed = (
        Action.objects.filter(pk=int(action.note.split("#")[-1])).first()
        if "#" in action.note
        else None
    )
    send_email("vmquota_operator", {**_incident_context(action), "failed": failed},
               [settings.OPERATIONS_EMAIL])  # fmt: skip
    _finish(action, ActionStatus.DONE)
    return "done"


_ACTIONS = {
    ActionKind.ALERT: _do_alert,
    ActionKind.REMINDER: _do_mail("vmquota_reminder"),
    ActionKind.RESOLVED: _do_mail("vmquota_resolved"),
    ActionKind.SUSPEND: _do_suspend,
    ActionKind.RESUME: _do_resume,
    ActionKind.OPERATOR: _do_operator,
}


def _operator_alert(failed):
    log.error("vmquota action %s (%s) failed after %s tries: %s", failed.pk, failed.kind,
              failed.attempts, failed.error)  # fmt: skip
    if failed.kind == ActionKind.OPERATOR:
        return
    op = Action.objects.create(
        vm=failed.vm, incident=None, kind=ActionKind.OPERATOR, note=f"處置失敗 #{failed.pk}"
    )
    _queue([op])


def vm_resume_request(*, vm, actor, reason=""):
    """Bureau staff ask to resume a suspended VM; the worker calls the hypervisor."""
    with transaction.atomic():
        action = Action.objects.create(
            vm=vm, incident=None, kind=ActionKind.RESUME, requested_by=actor,
            note=reason or "教育局恢復執行",
        )  # fmt: skip
        record("vmquota.resume_requested", actor=actor, target=vm.name, action_id=action.pk)
        _queue([action])
    return action


def reminders_queue(*, now=None):
    """While an alert lasts, a reminder every VMQUOTA_REMINDER_HOURS (seq = how many periods)."""
    now = now or timezone.now()
    period = timedelta(hours=settings.VMQUOTA_REMINDER_HOURS)
    created = []
    open_alerts = Incident.objects.filter(
        ended_at__isnull=True, withdrawn_at__isnull=True, exempted=False, observe_only=False,
        rule__action="alert", fired_at__lte=now - period,
    ).select_related("vm")  # fmt: skip
    with transaction.atomic():
        for incident in open_alerts:
            seq = int((now - incident.fired_at) / period)
            action, was_created = Action.objects.get_or_create(
                incident=incident, kind=ActionKind.REMINDER, seq=seq, defaults={"vm": incident.vm}
            )
            if was_created:
                created.append(action)
        _queue(created)
    return len(created)


def actions_requeue(*, now=None, stuck_after=timedelta(minutes=10)):
    """Re-queue pending actions whose retry time passed and running ones whose worker died."""
    now = now or timezone.now()
    Action.objects.filter(status=ActionStatus.RUNNING, claimed_at__lt=now - stuck_after).update(
        status=ActionStatus.PENDING
    )
    due = list(
        Action.objects.filter(status=ActionStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(created_at__lt=now - timedelta(minutes=1))
        .values_list("pk", flat=True)[:500]
    )
    from .tasks import act

    for pk in due:
        act.delay(pk)
    return len(due)


# --- inventory, collection, retention ---------------------------------------------------------


def inventory_sync(*, hypervisor):
    """Add the hypervisor's domains as VMs (unassigned) and refresh their state."""
    try:
        domains = get_adapter(hypervisor).list_domains()
    except HypervisorError as exc:
        hypervisor.last_error = str(exc)[:2000]
        hypervisor.save(update_fields=["last_error"])
        return 0
    for dom in domains:
        vm, created = VirtualMachine.objects.get_or_create(
            uuid=dom.uuid,
            defaults={"hypervisor": hypervisor, "name": dom.name, "vcpus": dom.vcpus,
                      "state": dom.state},
        )  # fmt: skip
        if not created:
            vm.vcpus = dom.vcpus
            vm.save(update_fields=["vcpus"])
            _set_vm_state(vm, dom.state, "與虛擬化主機同步")
    hypervisor.last_synced_at, hypervisor.last_error = timezone.now(), ""
    hypervisor.save(update_fields=["last_synced_at", "last_error"])
    return len(domains)


def usage_from_counters(prev_cpu_ns, prev_net, prev_at, stats):
    """cpu_percent from the CPU time delta over wall time and vCPUs; net_kbps from byte
    counter deltas (KB = 1024 bytes). None when there is no usable previous reading."""
    if prev_at is None or prev_cpu_ns is None:
        return None
    wall = (stats.at - prev_at).total_seconds()
    if wall <= 0 or stats.cpu_time_ns < prev_cpu_ns or stats.net_bytes < prev_net:
        return None  # counters reset (reboot, migration): skip one sample
    cpu = (stats.cpu_time_ns - prev_cpu_ns) / (wall * 1e9 * max(stats.vcpus, 1)) * 100
    net = (stats.net_bytes - prev_net) / 1024 / wall
    return min(max(cpu, 0.0), 100.0), max(net, 0.0)


def usage_collect(*, hypervisor):
    """Poll one hypervisor; store one sample per running VM. A down hypervisor only records
    its error: other hypervisors and the evaluation are separate tasks."""
    from .ingest import accepted_window, nudge_evaluation, sample_errors, store

    try:
        all_stats = get_adapter(hypervisor).stats()
    except HypervisorError as exc:
        hypervisor.last_error = str(exc)[:2000]
        hypervisor.save(update_fields=["last_error"])
        return 0
    vms = {str(vm.uuid): vm for vm in hypervisor.vms.all()}
    rows, refused = [], []
    window = accepted_window(timezone.now())
    for st in all_stats:
        vm = vms.get(st.uuid)
        if vm is None:
            continue
        usage = usage_from_counters(vm.counter_cpu_ns, vm.counter_net_bytes, vm.counter_at, st)
        vm.counter_cpu_ns, vm.counter_net_bytes, vm.counter_at = st.cpu_time_ns, st.net_bytes, st.at
        vm.save(update_fields=["counter_cpu_ns", "counter_net_bytes", "counter_at"])
        if usage is None:
            continue
        at = st.at.replace(microsecond=0)
        errors = sample_errors(len(rows), at, *usage, window)  # e.g. the host's clock is off
        if errors:
            refused.append(f"{vm.name}：{errors[0].message}")
        else:
            rows.append((vm.pk, at, *usage))
    if refused:
        log.warning("vmquota: %s refused samples: %s", hypervisor.name, refused)
        hypervisor.last_error = ("樣本未儲存：" + "；".join(refused))[:2000]
        hypervisor.save(update_fields=["last_error"])
    stored = store(rows)
    if stored:
        transaction.on_commit(nudge_evaluation)
    return stored


def samples_purge(*, older_than_days, batch_size=10_000, now=None):
    """Delete raw samples older than the retention, in batches (short transactions)."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    total = 0
    while True:
        ids = list(
            UsageSample.objects.filter(ts__lt=cutoff).values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return total
        total += UsageSample.objects.filter(pk__in=ids).delete()[0]


def exemption_grant(*, actor, vm=None, school=None, starts_at, ends_at, reason):
    exemption = Exemption.objects.create(
        vm=vm, school=school, starts_at=starts_at, ends_at=ends_at, reason=reason, granted_by=actor
    )
    record("vmquota.exemption_granted", actor=actor, target=str(vm or school), reason=reason)
    return exemption


def collector_token_issue(*, name, hypervisors, school, actor, request=None):
    """A new collector token for these hosts and/or this school; returns (row, raw token)."""
    with transaction.atomic():
        row, raw = CollectorToken.issue(
            name=name, created_by=actor, hypervisors=hypervisors, school=school
        )
        record("vmquota.token_issued", request=request, actor=actor, target=str(row),
               hypervisors=sorted(h.name for h in hypervisors),
               school=school.code if school else "")  # fmt: skip
    return row, raw


def collector_token_revoke(*, token, actor, request=None):
    """Revoke at once: the API reads only live tokens. Revoking twice changes nothing."""
    with transaction.atomic():
        revoked = CollectorToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            record("vmquota.token_revoked", request=request, actor=actor, target=str(token))
    return bool(revoked)


def vm_assign(*, vm, school, actor):
    old = vm.school
    vm.school = school
    vm.save(update_fields=["school"])
    record("vmquota.vm_assigned", actor=actor, target=vm.name, old=str(old), new=str(school))
