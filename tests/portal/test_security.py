"""Login protection, session lifetime, headers and the audit log."""

import time
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from portal.security import SESSION_REFRESH_S, SESSION_SEEN, SESSION_STARTED
from portal.services import audit_purge
from tests import factories

pytestmark = pytest.mark.template_context  # reads response.context["user"]


def fail_login(client, login, times=1, **extra):
    for _ in range(times):
        response = client.post(
            reverse("account_login"), {"login": login, "password": "wrong"}, **extra
        )
    return response


def test_five_failures_lock_the_account_even_with_the_right_password(client, coordinator):
    fail_login(client, coordinator.username, times=5)
    response = client.post(
        reverse("account_login"),
        {"login": coordinator.username, "password": factories.PASSWORD},
        REMOTE_ADDR="10.9.9.9",  # another address: the account itself is locked
    )
    assert response.status_code == 429
    assert "暫時鎖定" in response.content.decode()
    assert AuditEvent.objects.filter(action="login.lockout").exists()


def test_the_lock_is_shared_by_username_and_email(client, coordinator):
    fail_login(client, coordinator.username, times=3)
    fail_login(client, coordinator.email, times=2)
    response = client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 429


def test_the_lock_ends_by_itself_after_fifteen_minutes(client, coordinator):
    import time_machine

    fail_login(client, coordinator.username, times=5)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = client.post(
            reverse("account_login"),
            {"login": coordinator.username, "password": factories.PASSWORD},
        )
    assert response.status_code == 302


def test_the_admin_login_is_protected_too(client, sysadmin):
    for _ in range(5):
        client.post("/admin/login/", {"username": sysadmin.username, "password": "wrong"})
    response = client.post(
        "/admin/login/", {"username": sysadmin.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 429


def test_five_failures_for_one_account_do_not_lock_another_from_the_same_address(
    client, coordinator, other_coordinator
):
    """A typo-prone colleague at the same school (one address) locks only their own account."""
    fail_login(client, coordinator.username, times=5)

    response = client.post(
        reverse("account_login"),
        {"login": other_coordinator.username, "password": factories.PASSWORD},
    )

    assert response.status_code == 302


def test_the_sixth_try_of_a_locked_account_is_refused_and_says_when_to_try_again(
    client, coordinator
):
    import time_machine

    with time_machine.travel(timezone.make_aware(datetime(2019, 9, 10, 14, 30)), tick=False):
        fail_login(client, coordinator.username, times=5)
        response = client.post(
            reverse("account_login"),
            {"login": coordinator.username, "password": factories.PASSWORD},
        )

    body = response.content.decode()
    assert response.status_code == 429
    assert "這個帳號連續登入失敗 5 次" in body
    assert "請於下午 2 時 45 分後再試" in body
    assert reverse("account_reset_password") in body


def test_a_password_reset_ends_the_accounts_lock(client, coordinator):
    from allauth.account.signals import password_reset

    fail_login(client, coordinator.username, times=5)
    password_reset.send(sender=type(coordinator), request=None, user=coordinator)

    response = client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def test_many_failures_across_accounts_lock_the_address(client, db, settings):
    """Someone trying a few passwords on each of many accounts: no account reaches its limit,
    the address does (the limit is lowered here from 50 to keep the test short)."""
    settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for i in range(3):
        fail_login(client, f"nobody{i}", times=4)
    someone = factories.UserFactory(username="someone")

    response = client.post(
        reverse("account_login"), {"login": someone.username, "password": factories.PASSWORD}
    )

    assert response.status_code == 429
    assert "從您的網路位址登入失敗超過 12 次" in response.content.decode()
    elsewhere = client.post(
        reverse("account_login"),
        {"login": someone.username, "password": factories.PASSWORD},
        REMOTE_ADDR="10.9.9.9",
    )
    assert elsewhere.status_code == 302


def test_the_address_limit_is_ten_times_the_accounts():
    from django.conf import settings

    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT == 50


def test_a_forged_forwarded_for_header_changes_nothing(client, db, settings):
    settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = 10
    for i in range(10):
        fail_login(client, f"nobody{i}", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    someone = factories.UserFactory(username="someone")
    response = client.post(
        reverse("account_login"),
        {"login": someone.username, "password": factories.PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 429  # still the same REMOTE_ADDR, still locked


def test_proxy_headers_without_a_trusted_header_are_logged_once(client, db, caplog, settings):
    from portal.security import watch_for_proxy_headers

    settings.PORTAL_CLIENT_IP_HEADER = ""
    watch_for_proxy_headers()
    with caplog.at_level("WARNING", logger="portal.security"):
        client.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.0.0.2")
        client.get("/", HTTP_X_REAL_IP="203.0.113.8", REMOTE_ADDR="10.0.0.2")
    warnings = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert len(warnings) == 1
    assert "PORTAL_CLIENT_IP_HEADER" in warnings[0] and "HTTP_X_FORWARDED_FOR" in warnings[0]
    assert "10.0.0.2" in warnings[0]


def test_no_warning_when_the_trusted_header_is_set(client, db, caplog, settings):
    from portal.security import watch_for_proxy_headers

    settings.PORTAL_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    watch_for_proxy_headers()
    with caplog.at_level("WARNING", logger="portal.security"):
        client.get("/", HTTP_X_REAL_IP="203.0.113.7", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert not [r for r in caplog.records if r.name == "portal.security"]


def test_the_deploy_check_warns_about_a_proxy_without_a_trusted_header(settings):
    from portal.security import check_client_ip_header, check_proxy_without_client_ip_header

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PORTAL_CLIENT_IP_HEADER = ""
    assert [w.id for w in check_proxy_without_client_ip_header(None)] == ["portal.W101"]
    settings.PORTAL_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert check_proxy_without_client_ip_header(None) == []
    settings.PORTAL_CLIENT_IP_HEADER = "X-Real-IP"  # as the proxy spells it, not as Django does
    assert [e.id for e in check_client_ip_header(None)] == ["portal.E101"]


def test_login_gives_a_new_session_id(client, coordinator):
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    assert client.session.session_key != before


def test_logout_ends_the_session_on_the_server(client, coordinator):
    from portal.models import UserSession as Session

    client.force_login(coordinator)
    key = client.session.session_key
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_a_disabled_account_loses_its_session(login, coordinator):
    client = login(coordinator)
    coordinator.is_active = False
    coordinator.save()
    response = client.get(reverse("people"))
    assert response.status_code == 302  # anonymous again: sent to log in


def test_sessions_end_after_twelve_hours_whatever_the_activity(client, coordinator, settings):
    client.force_login(coordinator)
    session = client.session
    session[SESSION_STARTED] = int(time.time()) - settings.PORTAL_SESSION_ABSOLUTE_S - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert client.get("/").context["user"].is_authenticated is False


def test_sessions_have_a_thirty_minute_idle_timeout(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    # The idle clock is written at most once a minute, not on every request.
    assert not settings.SESSION_SAVE_EVERY_REQUEST


def _session_row(client):
    from portal.models import UserSession as Session

    return Session.objects.get(session_key=client.session.session_key)


def _backdate_seen(client, seconds):
    session = client.session
    session[SESSION_SEEN] = int(time.time()) - seconds
    session.save()


def test_an_idle_session_ends_after_thirty_minutes(client, coordinator, settings):
    client.force_login(coordinator)
    _backdate_seen(client, settings.SESSION_COOKIE_AGE + 1)
    response = client.get("/")
    assert response.status_code == 302
    assert client.get("/").context["user"].is_authenticated is False


def test_a_request_a_minute_later_moves_the_expiry_forward(client, coordinator, settings):
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(coordinator)
    _backdate_seen(client, SESSION_REFRESH_S + 5)
    row = _session_row(client)
    row.expire_date = timezone.now() + timedelta(minutes=5)  # as if it were 25 minutes idle
    row.save()
    assert client.get("/").status_code == 200
    left = _session_row(client).expire_date - timezone.now()
    assert left > timedelta(seconds=settings.SESSION_COOKIE_AGE - 30)
    assert client.session[SESSION_SEEN] >= int(time.time()) - 5


def test_requests_within_a_minute_do_not_write_the_session(client, coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(coordinator)  # the login itself sets the idle clock
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    writes = [q["sql"] for q in queries if "portal_usersession" in q["sql"]
              and not q["sql"].lstrip().upper().startswith("SELECT")]  # fmt: skip
    assert writes == []


def test_pages_carry_the_security_headers(client, db):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_logins_are_audited(client, coordinator):
    fail_login(client, coordinator.username)
    client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    actions = list(AuditEvent.objects.order_by("at").values_list("action", flat=True))
    assert actions == ["login.failure", "login.success"]


def test_the_audit_log_is_purged_after_the_retention_period(db):
    old = AuditEvent.objects.create(action="login.success", at=timezone.now() - timedelta(days=201))
    recent = AuditEvent.objects.create(
        action="login.success", at=timezone.now() - timedelta(days=150)
    )
    assert audit_purge(older_than_days=200) == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()


@pytest.mark.parametrize("who, status", [("coordinator", 403), ("bureau", 200)])
def test_only_bureau_staff_read_the_audit_log(login, request, who, status):
    user = request.getfixturevalue(who)
    assert login(user).get(reverse("audit_log")).status_code == status


def test_the_audit_log_shows_any_detail_even_a_key_named_items(login, bureau):
    AuditEvent.objects.create(action="meetings.imported", detail={"items": 39, "title": "九月"})
    response = login(bureau).get(reverse("audit_log"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "項目：39" in html and "標題：九月" in html
