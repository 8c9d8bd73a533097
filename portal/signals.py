"""Login events go to the audit log; an invitation remembered in the session binds a new account."""

from allauth.account.signals import user_signed_up
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit
from .services import invitation_accept


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit.record("login.success", request=request, actor=user, target=user.get_username())


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    login = (
        credentials.get("username") or credentials.get("email") or credentials.get("login") or ""
    )
    audit.record("login.failure", request=request, target=str(login)[:150])


@receiver(user_signed_up)
def bind_invitation(sender, request, user, **kwargs):
    token = request.session.pop("invitation_token", None) if request is not None else None
    if token:
        invitation_accept(token=token, user=user)
