"""Login protection and session lifetime.

- django-axes locks an account after 5 failures, and separately a client address after 5
  failures, for 15 minutes; both the allauth login and the admin login go through it because both
  call `authenticate()`.
- Sessions end after 30 idle minutes and at the latest 12 hours after login
  (`SessionLifetimeMiddleware`). The idle clock is a timestamp in the session, written back at
  most once a minute: saving the session on every request (SESSION_SAVE_EVERY_REQUEST) made every
  page an UPDATE and a COMMIT and cut a logged-in request's rate to a fifth. The server-side expiry
  moves with each write, so a session ends between 29 and 30 idle minutes after its last request.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect

from . import audit

SESSION_STARTED = "portal_login_at"
SESSION_SEEN = "portal_seen_at"
# How stale the idle clock may get before a request writes it (and the session's expiry) back.
SESSION_REFRESH_S = 60


def axes_username(request, credentials):
    """One key per account, whether the person typed the username or the e-mail address."""
    credentials = credentials or {}
    typed = (
        credentials.get("username")
        or credentials.get("email")
        or credentials.get("login")
        or (request.POST.get("login") if request is not None else None)
        or (request.POST.get("username") if request is not None else None)
        or ""
    )
    typed = str(typed).strip().lower()
    if "@" in typed:
        username = (
            get_user_model()
            .objects.filter(email__iexact=typed)
            .values_list("username", flat=True)
            .first()
        )
        if username:
            return username.lower()
    return typed


def axes_client_ip(request):
    return audit.client_ip(request)


def lockout_response(request, credentials, *args, **kwargs):
    from django.shortcuts import render

    audit.record("login.lockout", request=request, target=axes_username(request, credentials))
    return render(request, "portal/locked_out.html", status=429)


@receiver(user_logged_in)
def remember_login_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now


def session_expired(session, now):
    """Why this logged-in session must end now ("absolute" or "idle"), or None."""
    started = session.get(SESSION_STARTED)
    if started and now - started > settings.PORTAL_SESSION_ABSOLUTE_S:
        return "absolute"
    seen = session.get(SESSION_SEEN)
    if seen and now - seen > settings.SESSION_COOKIE_AGE:
        return "idle"
    return None


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if session_expired(request.session, now):
                logout(request)  # flushes the server-side session
                return redirect(settings.LOGIN_URL)
            seen = request.session.get(SESSION_SEEN)
            if not seen or now - seen >= SESSION_REFRESH_S:
                # Marks the session modified: SessionMiddleware saves it with a new expiry and
                # sends the cookie again.
                request.session[SESSION_SEEN] = now
        return self.get_response(request)
