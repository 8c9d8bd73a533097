"""Writes for the portal's own data: invitations, memberships, worker heartbeats."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import audit
from .mail import send_email
from .models import Invitation, Membership, Role, WorkerHeartbeat


class InvitationError(Exception):
    pass


def invitation_create(
    *, email, invited_by, school=None, district=None, role=Role.COORDINATOR, request=None
):
    invitation = Invitation.objects.create(
        email=email.strip().lower(),
        role=role,
        school=school,
        district=district,
        invited_by=invited_by,
    )
    link = reverse("invitation_accept", args=[invitation.token])
    transaction.on_commit(
        lambda: send_email(
            "invitation", {"invitation": invitation, "link": link}, [invitation.email]
        )
    )
    audit.record(
        "invitation.created",
        request=request,
        actor=invited_by,
        target=invitation.email,
        school=str(school or ""),
        role=role,
    )
    return invitation


@transaction.atomic
def invitation_accept(*, token, user):
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        raise InvitationError("這個邀請連結已失效或已使用過，請向教育局承辦人索取新的邀請。")
    Membership.objects.get_or_create(
        user=user, role=invitation.role, school=invitation.school, district=invitation.district
    )
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_by", "accepted_at"])
    audit.record("invitation.accepted", actor=user, target=invitation.email)
    return invitation


def heartbeat_record(*, worker):
    WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"seen_at": timezone.now()})


def heartbeat_age_s():
    """Seconds since any worker last ran the heartbeat task, or None if none ever has."""
    latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    if latest is None:
        return None
    return round((timezone.now() - latest).total_seconds(), 1)


def audit_purge(*, older_than_days, batch_size=5000):
    """Delete audit events older than the retention period, in batches (safe to run twice)."""
    from datetime import timedelta

    from .models import AuditEvent

    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(
            AuditEvent.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += AuditEvent.objects.filter(pk__in=ids).delete()[0]
