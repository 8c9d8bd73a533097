"""Writes for the portal's own data: invitations, memberships, worker heartbeats."""

import re
from datetime import timedelta
from functools import partial

from allauth.account.models import EmailAddress
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from . import audit, rocdate
from .mail import send_email
from .models import Invitation, Membership, Role, WorkerHeartbeat

INVITATION_DAYS = 14
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
    if invitation.revoked_at is not None:
        raise InvitationError(
            "這個邀請已被教育局撤銷，不能再使用。若您認為這是誤會，請向教育局承辦人索取新的邀請。",
            reason="revoked",
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
    *,
    email,
    invited_by,
    school=None,
    district=None,
    division=None,
    role=Role.COORDINATOR,
    request=None,
):
    invitation = Invitation.objects.create(
        email=email.strip().lower(),
        role=role,
        school=school,
        district=district,
        division=division,
        invited_by=invited_by,
    )
    _queue_invitation_mail(invitation)
    audit.record(
        "invitation.created",
        request=request,
        actor=invited_by,
        target=invitation.email,
        school=str(school or district or division or ""),
        role=role,
    )
    return invitation


def _queue_invitation_mail(invitation):
    """After the commit; with the broker away the invitation stays (logged) and the bureau's
    list offers to resend it."""
    from .tasks import send_invitation

    transaction.on_commit(partial(send_invitation.delay, invitation.pk), robust=True)


def invitation_mail_send(invitation_id):
    """The invitation's e-mail, if it can still be accepted (a revoked one is not sent)."""
    invitation = (
        Invitation.objects.select_related("invited_by", "school", "district", "division")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return 0
    link = reverse("invitation_accept", args=[invitation.token])
    return send_email("invitation", {"invitation": invitation, "link": link}, [invitation.email])


@transaction.atomic
def invitation_resend(*, invitation, by, request=None):
    """Sends the invitation again, valid for another 14 days from now; refused once accepted."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise InvitationError("這個邀請已經被接受，不需要重寄。", reason="used")
    now = timezone.now()
    invitation.revoked_at = invitation.revoked_by = None
    invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
    invitation.sent_count += 1
    invitation.last_sent_at = now
    invitation.save(
        update_fields=["revoked_at", "revoked_by", "expires_at", "sent_count", "last_sent_at"]
    )
    _queue_invitation_mail(invitation)
    audit.record("invitation.resent", request=request, actor=by, target=invitation.email)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation, by, request=None):
    """Its link stops working at once; the row stays, saying who revoked it and when."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise InvitationError(
            "這個邀請已經被接受；要取消對方的角色，請到管理介面刪除其角色。", reason="used"
        )
    if invitation.revoked_at is None:
        invitation.revoked_at, invitation.revoked_by = timezone.now(), by
        invitation.save(update_fields=["revoked_at", "revoked_by"])
        audit.record("invitation.revoked", request=request, actor=by, target=invitation.email)
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
    if invitation.role in (Role.BUREAU, Role.ADMIN):
        Membership.objects.get_or_create(
            user=user, role=invitation.role, defaults={"division": invitation.division}
        )
    else:
        Membership.objects.get_or_create(
            user=user, role=invitation.role, school=invitation.school, district=invitation.district
        )
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_by", "accepted_at"])
    audit.record("invitation.accepted", request=request, actor=user, target=invitation.email)
    return invitation


DEFAULT_DIVISIONS = [("資訊推廣組", 1), ("系統平臺組", 2), ("網管資安組", 3)]


def bootstrap_done():
    """The username of an administrator if there is one (then bootstrap has nothing to do)."""
    from django.contrib.auth import get_user_model

    admin = (
        get_user_model()
        .objects.filter(models.Q(is_superuser=True) | models.Q(memberships__role=Role.ADMIN))
        .values_list("username", flat=True)
        .first()
    )
    return admin


@transaction.atomic
def bootstrap_admin(*, username, email, password, full_name=""):
    """The first bureau administrator (Django admin too, with a verified address so invitations
    and password resets reach them) and the bureau's divisions, when there are none yet."""
    from django.contrib.auth import get_user_model

    from .models import Division

    user = get_user_model().objects.create_user(
        username=username, email=email.lower(), password=password, full_name=full_name,
        is_staff=True, is_superuser=True,
    )  # fmt: skip
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Membership.objects.create(user=user, role=Role.ADMIN)
    if not Division.objects.exists():
        for name, position in DEFAULT_DIVISIONS:
            Division.objects.create(name=name, position=position)
    audit.record("portal.bootstrapped", actor=user, target=user.username)
    return user


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
