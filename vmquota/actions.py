"""Actions: every outbound call (an e-mail, a suspension, a resume) is an `Action` row with its
own status, attempts and error. A worker claims a row with a conditional UPDATE, so a task that
runs twice never acts twice; the rows are the record, the queue only nudges."""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal import fragments
from portal.audit import record
from portal.mail import send_email
from portal.models import Role

from .hypervisors import HypervisorError, get_adapter
from .models import (
    EVALUATION_SHARDS,
    Action,
    ActionKind,
    ActionStatus,
    EndReason,
    EvaluationCursor,
    Incident,
    RuleAction,
    StreakState,
    VirtualMachine,
    VmStateChange,
    describe_rule,
)

log = logging.getLogger("vmquota")


# Folding. A pending alert for the same VM and metric as a suspension is held by it, so that the
# school gets one e-mail, not an alert and then a suspension notice. The suspension's action then
# owes the school that alert: whatever becomes of it – done, skipped because the streak ended
# first (a worker killed mid-way and requeued late), failed – exactly one e-mail carries the
# alerts it holds (`hand_over`). Held alerts are never dropped with the suspension.

# an alert the school has been told of: sent, or folded into an e-mail that was sent
ALERT_TOLD = Q(kind=ActionKind.ALERT) & (
    Q(status=ActionStatus.DONE)
    | Q(status=ActionStatus.FOLDED, folded_into__status=ActionStatus.DONE)
)


def _fold(actions, carrier):
    """Fold these pending actions (a queryset) into `carrier`'s e-mail. What they held moves
    along, so every held action is one step from the action that will send it."""
    ids = list(actions.exclude(pk=carrier.pk).values_list("pk", flat=True))
    if not ids:
        return
    Action.objects.filter(pk__in=ids, status=ActionStatus.PENDING).update(
        status=ActionStatus.FOLDED, folded_into=carrier, finished_at=timezone.now()
    )
    Action.objects.filter(folded_into_id__in=ids).update(folded_into=carrier)


def _pending_alerts_like(suspend):
    """What a suspension's notice carries: every pending alert of the VM and its other pending
    suspensions – the VM is suspended once, whichever rules fired, and the school gets one
    notice naming them all."""
    return Action.objects.filter(
        vm_id=suspend.vm_id, kind__in=[ActionKind.ALERT, ActionKind.SUSPEND],
        status=ActionStatus.PENDING,
    )  # fmt: skip


def fold_alerts(pending):
    """The first new suspension of a VM carries the VM's other pending alerts and suspensions."""
    carriers = {}
    for suspend in [a for a in pending if a.kind == ActionKind.SUSPEND]:
        carriers.setdefault(suspend.vm_id, suspend)
    for suspend in carriers.values():
        _fold(_pending_alerts_like(suspend), suspend)


def hand_over(suspend, reason):
    """A suspension that did not happen still tells the school, exactly once: an alert row for its
    own incident (one per incident: the unique (incident, kind, seq)) takes over the alerts it
    held and is sent as the notice that the VM was not suspended. A withdrawn incident (late data
    showed no streak) hands nothing of its own over: its held alerts of other streaks go back to
    pending. Call inside the transaction that ends the suspension; returns the actions to queue."""
    held = Action.objects.filter(folded_into=suspend, status=ActionStatus.FOLDED)
    # a suspension it held is still owed to its own streak: it goes back to the queue
    suspensions = held.filter(kind=ActionKind.SUSPEND, incident__withdrawn_at__isnull=True)
    again = list(suspensions.values_list("pk", flat=True))
    suspensions.update(status=ActionStatus.PENDING, folded_into=None, finished_at=None)
    again = list(Action.objects.filter(pk__in=again))
    incident = suspend.incident
    if incident.withdrawn_at is None:
        alert, created = Action.objects.get_or_create(
            incident=incident, kind=ActionKind.ALERT, seq=0,
            defaults={"vm_id": suspend.vm_id, "note": reason},
        )  # fmt: skip
        held.update(folded_into=alert)
        return again + ([alert] if created else [])
    released = held.filter(incident__withdrawn_at__isnull=True)
    ids = list(released.values_list("pk", flat=True))
    released.update(status=ActionStatus.PENDING, folded_into=None, finished_at=None)
    return again + list(Action.objects.filter(pk__in=ids))


def actions_queue(pending):
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


def vm_state_set(vm, new, reason, actor=None):
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
                    actions_queue(hand_over(action, "虛擬化主機無法執行暫停，已通知維運人員"))
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
    notice of a suspension that did not happen (`hand_over`); either carries the alerts folded
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


def vm_streaks_end(vm, *, at=None):
    """A suspended VM sends no more (or idle) samples: its open incidents end here (已暫停), its
    open streaks are dropped, and samples at or before this time are never judged again, so the
    VM starts fresh. Holds the VM's evaluation shard meanwhile, so that a cycle running at the
    same time neither keeps nor rewrites what this ends."""
    at = at or timezone.now()
    with transaction.atomic():
        list(EvaluationCursor.objects.select_for_update().filter(
            pk=vm.pk % EVALUATION_SHARDS + 1))  # fmt: skip
        current = VirtualMachine.objects.filter(pk=vm.pk).values_list(
            "last_sample_at", "streaks_reset_at").first() or (None, None)  # fmt: skip
        at = max(filter(None, [at, *current]))
        ended = Incident.objects.filter(
            vm=vm, ended_at__isnull=True, withdrawn_at__isnull=True
        ).update(ended_at=at, end_reason=EndReason.SUSPENDED, last_sample_at=current[0])
        StreakState.objects.filter(vm=vm).delete()
        VirtualMachine.objects.filter(pk=vm.pk).update(streaks_reset_at=at, closed_through=None)
        vm.streaks_reset_at = at
        from .selectors import ROOM_COUNTER

        fragments.changed(ROOM_COUNTER)  # update() sends no signal
    return ended


def _do_suspend(action):
    incident, vm = action.incident, action.vm
    if not incident.is_open and incident.end_reason == EndReason.SUSPENDED:
        # another rule's suspension got there first and its notice went out: nothing more to do
        # but pass on what this one held (sent as alerts, each saying when it ended)
        with transaction.atomic():
            _finish(action, ActionStatus.SKIPPED, note="虛擬機已依其他規則暫停")
            held = Action.objects.filter(folded_into=action, status=ActionStatus.FOLDED)
            ids = list(held.values_list("pk", flat=True))
            held.update(status=ActionStatus.PENDING, folded_into=None, finished_at=None)
            actions_queue(list(Action.objects.filter(pk__in=ids)))
        return "skipped"
    if not incident.is_open:
        # never suspend on stale information: the streak already ended – but the school is still
        # told of it, with the alerts this suspension held
        note = "事件在暫停前已結束"
        with transaction.atomic():
            _finish(action, ActionStatus.SKIPPED, note=note)
            actions_queue(hand_over(action, note))
        return "skipped"
    observed = _call_hypervisor(vm, "suspend")
    vm_state_set(vm, observed, f"依規則暫停：{incident.rule}")
    record("vmquota.suspended", target=vm.name, rule=str(incident.rule), observed=observed,
           incident=incident.pk)  # fmt: skip
    _fold(_pending_alerts_like(action), action)
    folded = _folded_incidents(action)  # as they were when they fired: read before they end
    vm_streaks_end(vm)
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
    vm_state_set(vm, observed, action.note or "教育局恢復執行", actor=action.requested_by)
    vm_streaks_end(vm)  # whatever was measured while it was paused: it starts fresh
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
    actions_queue([op])


def vm_resume_request(*, vm, actor, reason=""):
    """Bureau staff ask to resume a suspended VM; the worker calls the hypervisor."""
    with transaction.atomic():
        action = Action.objects.create(
            vm=vm, incident=None, kind=ActionKind.RESUME, requested_by=actor,
            note=reason or "教育局恢復執行",
        )  # fmt: skip
        record("vmquota.resume_requested", actor=actor, target=vm.name, action_id=action.pk)
        actions_queue([action])
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
        actions_queue(created)
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
