"""The bureau's own writes from the vmquota pages that belong to no larger job: collector
tokens, a VM's school, a what-if run. Each takes values a form has validated and writes in one
transaction. (Policy, evaluation, actions, collection and exemptions have modules of their own.)"""

from django.db import transaction
from django.utils import timezone

from portal.audit import record

from .models import CollectorToken, WhatIfRun


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
    with transaction.atomic():
        old = vm.school
        vm.school = school
        vm.save(update_fields=["school"])
        record("vmquota.vm_assigned", actor=actor, target=vm.name, old=str(old), new=str(school))


WHATIF_FIELDS = ("metric", "threshold", "minutes", "action")


def whatif_run_create(*, actor, rules):
    """A what-if run of these draft rules (a RuleFormSet's cleaned rows), computed by a worker
    once it is committed."""
    from .tasks import whatif

    with transaction.atomic():
        run = WhatIfRun.objects.create(
            created_by=actor, params={"rules": [{k: r[k] for k in WHATIF_FIELDS} for r in rules]}
        )
        transaction.on_commit(lambda: whatif.delay(run.pk))
    return run
