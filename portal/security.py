"""Login protection and session lifetime.

- django-axes locks an account after 5 failures for 15 minutes, whichever address they come from;
  a client address is locked separately after 50 failures across accounts
  (`AccountAndAddressHandler`). Both the allauth login and the admin login go through it because
  both call `authenticate()`. A password reset ends the account's lock.
- The client address is REMOTE_ADDR, or the one header PORTAL_CLIENT_IP_HEADER names
  (portal/audit.py); a process that sees proxy headers without that setting says so once in the
  log, and `check --deploy` warns when the settings say a proxy is in front.
- Sessions end after 30 idle minutes and at the latest 12 hours after login
  (`SessionLifetimeMiddleware`). The idle clock is a timestamp in the session, written back at
  most once a minute, so that a page is not also an UPDATE and a COMMIT of the session
  (SESSION_SAVE_EVERY_REQUEST). The server-side expiry moves with each write, so a session ends
  between 29 and 30 idle minutes after its last request.
"""

import logging
import time

from allauth.account.signals import password_reset
from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in
from django.core import checks
from django.core.signals import request_started
from django.dispatch import receiver
from django.shortcuts import redirect, render

from . import audit, rocdate

logger = logging.getLogger(__name__)

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


# --- the two locks ------------------------------------------------------------------------


def _recent_attempts(request, **which):
    return AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request), **which)


def _failures(attempts):
    return sum(attempts.values_list("failures_since_start", flat=True))


def _lock_ends(attempts, limit, request):
    """When these failures stop counting up to `limit`: the newest rows that reach it, the
    oldest of them plus the cool-off."""
    total = 0
    for at, failures in attempts.order_by("-attempt_time").values_list(
        "attempt_time", "failures_since_start"
    ):
        total += failures
        if total >= limit:
            return at + get_cool_off(request)
    return None


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler counting the account (AXES_LOCKOUT_PARAMETERS = ["username"],
    AXES_FAILURE_LIMIT), plus a much higher limit for one client address across accounts,
    read from the same AccessAttempt rows. axes itself has one limit for all its parameters:
    ["username", "ip_address"] locked a whole school's network after 5 typos."""

    @staticmethod
    def address_locked(request):
        ip = getattr(request, "axes_ip_address", None)
        if not ip:
            return False
        return (
            _failures(_recent_attempts(request, ip_address=ip))
            >= settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT
        )

    def is_locked(self, request, credentials=None):
        return super().is_locked(request, credentials) or self.address_locked(request)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        # the failure that reaches the address's limit is answered with the lock page, as the
        # account's is
        if request is not None and not request.axes_locked_out and self.address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=axes_username(request, credentials),
                ip_address=request.axes_ip_address,
            )


def lockout_response(request, credentials, *args, **kwargs):
    """The page for a locked login: which lock (the account, or the address), until when, and
    that a password reset ends the account's lock."""
    username = axes_username(request, credentials)
    account = _recent_attempts(request, username=username) if username else None
    until = account is not None and _lock_ends(account, settings.AXES_FAILURE_LIMIT, request)
    locked = "account"
    if not until:
        locked = "address"
        until = _lock_ends(
            _recent_attempts(request, ip_address=getattr(request, "axes_ip_address", None)),
            settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT,
            request,
        )
    audit.record("login.lockout", request=request, target=username, locked=locked)
    context = {
        "locked": locked,
        "until": rocdate.format_time(until) if until else "",
        "account_limit": settings.AXES_FAILURE_LIMIT,
        "address_limit": settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT,
        "minutes": int(get_cool_off(request).total_seconds() // 60),
    }
    return render(request, "portal/locked_out.html", context, status=429)


@receiver(password_reset)
def unlock_after_password_reset(sender, request, user, **kwargs):
    """Whoever can read the account's mailbox may log in again at once with the new password."""
    if axes_reset(username=user.get_username().lower()):
        audit.record("login.unlocked", request=request, actor=user, target=user.get_username())


# --- the client address behind a proxy -----------------------------------------------------

PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def warn_about_proxy_headers(sender, environ=None, **kwargs):
    """Once a process: requests carry proxy headers, but PORTAL_CLIENT_IP_HEADER names none, so
    every client has the proxy's address (one address for the login limits and the audit log)."""
    if settings.PORTAL_CLIENT_IP_HEADER:
        request_started.disconnect(dispatch_uid=__name__ + ".proxy_headers")
        return
    seen = [h for h in PROXY_HEADERS if environ and environ.get(h)]
    if not seen:
        return
    request_started.disconnect(dispatch_uid=__name__ + ".proxy_headers")
    logger.warning(
        "Requests arrive with proxy headers (%s) but PORTAL_CLIENT_IP_HEADER is not set: every "
        "client has the proxy's address %s, for the login limits and the audit log alike. Set it "
        "to the header your proxy overwrites with the client's address (docs/security.md).",
        ", ".join(seen),
        environ.get("REMOTE_ADDR", "?"),
    )


def watch_for_proxy_headers():
    request_started.connect(
        warn_about_proxy_headers, dispatch_uid=__name__ + ".proxy_headers", weak=False
    )


watch_for_proxy_headers()


@checks.register(checks.Tags.security)
def check_client_ip_header(app_configs, **kwargs):
    header = settings.PORTAL_CLIENT_IP_HEADER
    if header and not (header.startswith("HTTP_") or header == "REMOTE_ADDR"):
        return [
            checks.Error(
                f"PORTAL_CLIENT_IP_HEADER={header!r} names no request header: write it as Django "
                "sees it, e.g. HTTP_X_REAL_IP for X-Real-IP.",
                id="portal.E101",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_proxy_without_client_ip_header(app_configs, **kwargs):
    behind_proxy = settings.SECURE_PROXY_SSL_HEADER or settings.USE_X_FORWARDED_HOST
    if behind_proxy and not settings.PORTAL_CLIENT_IP_HEADER:
        return [
            checks.Warning(
                "The settings say a proxy is in front (SECURE_PROXY_SSL_HEADER or "
                "USE_X_FORWARDED_HOST) but PORTAL_CLIENT_IP_HEADER is not set: every client has "
                "the proxy's address, so too many failed logins lock the whole portal's address "
                "and the audit log names the proxy.",
                hint="Set PORTAL_CLIENT_IP_HEADER to the header the proxy overwrites with the "
                "client's address, e.g. HTTP_X_REAL_IP (docs/security.md).",
                id="portal.W101",
            )
        ]
    return []


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
