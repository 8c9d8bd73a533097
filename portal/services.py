"""Writes for the portal's own data: invitations, memberships, worker heartbeats."""

import re

from allauth.account.models import EmailAddress
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import audit, rocdate
from .mail import send_email
from .models import Invitation, Membership, Role, WorkerHeartbeat

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvitationError(Exception):
    """Why an invitation cannot be used, in words for the person holding the link, with the HTTP
    status of the page that says so (404 unknown, 410 used or expired, 403 not for this account)."""

    def __init__(self, message, *, status=410, reason=""):
        super().__init__(message)
        self.status = status
        self.reason = reason


def invitation_usable(token, *, for_update=False):
    """The invitation `token` names if it can still be accepted; InvitationError otherwise.
    With for_update (inside a transaction) the row stays locked until the transaction ends, so
    two acceptances of one invitation run one after the other and the second is refused."""
    invitations = Invitation.objects.select_for_update() if for_update else Invitation.objects
    token = str(token or "")
    # tokens are URL-safe base64; anything else (a NUL byte, a pasted fragment) names nothing
    well_formed = _TOKEN.fullmatch(token) is not None
    invitation = invitations.filter(token=token).first() if well_formed else None
    if invitation is None:
        raise InvitationError(
            "這個邀請連結無效：連結可能不完整，或邀請已被撤銷。請確認您開啟的是信中的完整連結，"
            "或向教育局承辦人索取新的邀請。",
            status=404,
            reason="unknown",
        )
    if invitation.accepted_at is not None:
        raise InvitationError(
            "這個邀請已經使用過，不能再用來建立帳號。若是您本人用過，請直接登入；"
            "若不是，請通知教育局承辦人。",
            reason="used",
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationError(
            f"這個邀請已於 {rocdate.format_date(timezone.localdate(invitation.expires_at))} 過期。"
            "請向教育局承辦人索取新的邀請。",
            reason="expired",
        )
    return invitation


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
def invitation_accept(*, token, user, request=None):
    """Binds `user` to the invitation's school (or district) and uses the invitation up. Only an
    account that has verified the invited address may accept: the link alone does not give a
    logged-in stranger the school."""
    invitation = invitation_usable(token, for_update=True)
    if not EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists():
        raise InvitationError(
            f"這個邀請寄給 {invitation.email}，您目前登入的帳號沒有這個已驗證的電子郵件，"
            "所以不能接受。若這是您的電子郵件，請先在帳號的「電子郵件」頁驗證它，再開啟連結；"
            "否則請登出後再開啟邀請連結建立帳號。",
            status=403,
            reason="wrong address",
        )
    Membership.objects.get_or_create(
        user=user, role=invitation.role, school=invitation.school, district=invitation.district
    )
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_by", "accepted_at"])
    audit.record("invitation.accepted", request=request, actor=user, target=invitation.email)
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
