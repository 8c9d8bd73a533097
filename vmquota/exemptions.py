"""Exemptions: a VM or a whole school, for a window, with a reason. An incident that fires inside
one is recorded as exempted and nothing is done about it."""

from django.db.models import Q

from portal.audit import record

from .models import Exemption


def exemption_grant(*, actor, vm=None, school=None, starts_at, ends_at, reason):
    exemption = Exemption.objects.create(
        vm=vm, school=school, starts_at=starts_at, ends_at=ends_at, reason=reason, granted_by=actor
    )
    record("vmquota.exemption_granted", actor=actor, target=str(vm or school), reason=reason)
    return exemption


def exemption_for(vm, at):
    """The exemption covering this VM (or its school) at `at`, the newest first; or None."""
    return (
        Exemption.objects.filter(starts_at__lte=at, ends_at__gt=at)
        .filter(Q(vm=vm) | Q(school_id=vm.school_id) if vm.school_id else Q(vm=vm))
        .first()
    )


def exemptions_at(earliest, latest):
    """Every exemption in force at some time between `earliest` and `latest`, the newest first:
    the evaluator reads them once a pass and picks with `covers`."""
    return list(Exemption.objects.filter(starts_at__lte=latest, ends_at__gt=earliest))


def covers(exemption, vm, at):
    """Whether `exemption` covers this VM at `at` (what exemption_for asks the database)."""
    return exemption.starts_at <= at < exemption.ends_at and (
        exemption.vm_id == vm.pk or bool(vm.school_id and exemption.school_id == vm.school_id)
    )
