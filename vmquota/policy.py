"""The policy: which version is in force, its rules as the evaluator reads them, publishing a new
version and announcing it to every coordinator."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portal.audit import record
from portal.mail import send_email
from portal.models import Role

from . import evaluation
from .models import Policy, PolicyVersion, Rule, describe_rule


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


def version_changes(current, rules, max_gap):
    """What a new version changes against the one in force: one row per rule (matched by metric
    and action) – `added`, `removed`, `changed` (with the old text) or `same` – and the gap.
    rules: [{"metric", "threshold", "duration", "action", "mode"}]."""
    old = {(r.metric, r.action): r for r in current.rules.all()} if current else {}
    rows = []
    for r in rules:
        text = describe_rule(r["metric"], r["threshold"], r["duration"], r["action"])
        if r["mode"] == "observe":
            text += "（觀察，僅記錄）"
        before = old.pop((r["metric"], r["action"]), None)
        if before is None:
            rows.append({"kind": "added", "text": text, "old": ""})
            continue
        old_text = str(before) + ("（觀察，僅記錄）" if before.mode == "observe" else "")
        kind = "same" if old_text == text else "changed"
        rows.append({"kind": kind, "text": text, "old": old_text if kind == "changed" else ""})
    for before in old.values():
        rows.append({"kind": "removed", "text": "", "old": str(before)})
    gap = None
    if current is None or current.max_gap != max_gap:
        gap = {"old": current.max_gap if current else None, "new": max_gap}
    return {"rules": rows, "gap": gap,
            "changed": bool(gap) or any(r["kind"] != "same" for r in rows)}  # fmt: skip


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
               actor=actor, target=f"第 {number} 版配額政策", rules=len(rules))  # fmt: skip
        if publish:
            from .tasks import notify_policy

            transaction.on_commit(lambda: notify_policy.delay(version.pk))
    return version


def _coordinator_emails():
    User = get_user_model()
    return sorted(
        set(
            User.objects.filter(is_active=True, memberships__role=Role.COORDINATOR)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def coordinator_count():
    """How many coordinators a published version e-mails (the confirmation says so)."""
    return len(_coordinator_emails())


def policy_notify(*, version_id):
    version = PolicyVersion.objects.prefetch_related("rules").get(pk=version_id)
    emails = _coordinator_emails()
    # one message per recipient: coordinators do not see each other's addresses
    for email in emails:
        send_email("vmquota_policy", {"version": version, "rules": version.rules.all()}, [email])
    return len(emails)
