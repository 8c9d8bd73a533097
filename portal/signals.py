"""Login events go to the audit log (an invitation is used up by the sign-up form itself,
portal/forms.py); a change to a person, their roles or a session drops the session reads kept in
the cache."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import audit
from .sessions import forget_sessions, forget_sessions_of


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit.record("login.success", request=request, actor=user, target=user.get_username())


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    login = (
        credentials.get("username") or credentials.get("email") or credentials.get("login") or ""
    )
    audit.record("login.failure", request=request, target=str(login)[:150])


# portal/sessions.py keeps each session's read (the person, their roles) for a few seconds: the
# person's next request must see a password, an account switched off or a role as it is now.
@receiver([post_save, post_delete], sender=settings.AUTH_USER_MODEL)
def forget_sessions_of_changed_user(sender, instance, **kwargs):
    forget_sessions_of(instance.pk)


@receiver([post_save, post_delete], sender="portal.Membership")
def forget_sessions_of_changed_roles(sender, instance, **kwargs):
    forget_sessions_of(instance.user_id)


# every session write (login, the once-a-minute refresh, logout) and every ended session: the
# store's own saves and deletes, the admin's, an account's cascade
@receiver([post_save, post_delete], sender="portal.UserSession")
def forget_written_session(sender, instance, **kwargs):
    forget_sessions(instance.session_key)
