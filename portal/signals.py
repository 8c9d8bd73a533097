"""Login events go to the audit log (an invitation is used up by the sign-up form itself,
portal/forms.py)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit.record("login.success", request=request, actor=user, target=user.get_username())


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    login = (
        credentials.get("username") or credentials.get("email") or credentials.get("login") or ""
    )
    audit.record("login.failure", request=request, target=str(login)[:150])
