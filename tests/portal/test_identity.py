"""Who a request is: Django's database sessions (each row naming its person, so that an admin can
end a person's sessions) and Django's and allauth's own login backends; the person's roles are
read once per request (portal/access.py). Nothing of a session or a role outlives the database's
word on it: every change counts from the next request."""

from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import access
from portal.models import Membership, Role
from portal.models import UserSession as Session
from portal.sessions import SessionStore
from tests import factories

pytestmark = pytest.mark.template_context  # reads response.context["user"]

ROLES_READ = 'SELECT "portal_membership"."role" AS "role", "portal_membership"."school_id"'


def test_the_roles_are_every_membership_of_the_person(db, xindian_school, wenshan):
    division = factories.DivisionFactory(name="網管資安組")
    user = factories.coordinator_of(xindian_school, username="many-hats")
    Membership.objects.create(user=user, role=Role.CONVENER, district=wenshan)
    Membership.objects.create(user=user, role=Role.BUREAU, division=division)

    loaded = ModelBackend().get_user(user.pk)

    assert access.roles_of(loaded) == access.Roles(
        coordinator_school_ids=frozenset({xindian_school.pk}),
        convener_district_ids=frozenset({wenshan.pk}),
        bureau_division_ids=frozenset({division.pk}),
        is_bureau=True,
    )


def test_a_user_without_roles_and_an_admin_flag(db):
    plain = factories.UserFactory(username="plain")
    superuser = factories.UserFactory(username="root", is_superuser=True)
    assert access.roles_of(plain) == access.NO_ROLES
    assert access.roles_of(superuser).is_admin


def test_the_roles_are_read_once_per_request(login, coordinator):
    """The tracked-item list asks about roles many times (the menu, the page, its filters)."""
    client = login(coordinator)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("tracking:list")).status_code == 200
    assert len([q for q in queries if q["sql"].startswith(ROLES_READ)]) == 1


@pytest.mark.parametrize("typed", ["username", "email"])
def test_people_log_in_by_username_or_e_mail_through_the_stock_backends(client, coordinator, typed):
    client.post(
        reverse("account_login"),
        {"login": getattr(coordinator, typed), "password": factories.PASSWORD},
    )
    assert client.session[BACKEND_SESSION_KEY] in (
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    )
    assert client.get(reverse("home")).context["user"] == coordinator


def test_a_role_given_or_taken_counts_from_the_next_request(login, coordinator):
    client = login(coordinator)
    assert client.get(reverse("audit_log")).status_code == 403
    granted = Membership.objects.create(user=coordinator, role=Role.BUREAU)
    assert client.get(reverse("audit_log")).status_code == 200
    granted.delete()
    assert client.get(reverse("audit_log")).status_code == 403


def test_the_session_store_reads_what_it_wrote(db):
    store = SessionStore()
    store["greeting"] = "你好"
    store.create()
    again = SessionStore(store.session_key)
    assert again["greeting"] == "你好"
    assert again.session_key == store.session_key


def test_an_expired_or_unknown_session_is_empty_and_gets_a_new_key(db):
    store = SessionStore()
    store["greeting"] = "你好"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert "greeting" not in expired
    assert expired.session_key is None  # a new key on save, never the old one again

    unknown = SessionStore("x" * 32)
    assert dict(unknown.items()) == {}
    assert unknown.session_key is None


def test_a_session_ended_on_the_server_ends_at_once(login, coordinator):
    client = login(coordinator)
    assert client.get(reverse("home")).context["user"] == coordinator
    Session.objects.all().delete()  # e.g. logout in another tab
    assert client.get(reverse("people")).status_code == 302


# --- the session row names its person (portal.UserSession) ---------------------------------


def test_the_session_row_names_its_person_and_forgets_them_at_logout(client, coordinator):
    client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    assert Session.objects.get(session_key=client.session.session_key).user == coordinator
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(user=coordinator).exists()


def test_an_anonymous_session_names_nobody(db):
    store = SessionStore()
    store["greeting"] = "你好"
    store.create()
    assert Session.objects.get(session_key=store.session_key).user is None
    again = SessionStore(store.session_key)
    assert again["greeting"] == "你好"


def test_deleting_an_account_ends_its_sessions(login, coordinator):
    client = login(coordinator)
    assert client.get(reverse("home")).context["user"] == coordinator
    coordinator.delete()
    assert not Session.objects.exists()
    assert client.get(reverse("people")).status_code == 302


def test_the_migration_brings_live_sessions_over_with_their_person(transactional_db):
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore as DjangosStore
    from django.db.migrations.executor import MigrationExecutor

    person = factories.UserFactory(username="stays-logged-in")
    executor = MigrationExecutor(connection)
    executor.migrate([("portal", "0003_job_claimed_at")])
    old = executor.loader.project_state(
        [("portal", "0003_job_claimed_at"), ("sessions", "0001_initial")]
    ).apps
    OldSession = old.get_model("sessions", "Session")
    soon = timezone.now() + timedelta(minutes=20)
    OldSession.objects.create(session_key="live" + "x" * 28, expire_date=soon,
                              session_data=DjangosStore().encode({SESSION_KEY: str(person.pk)}))  # fmt: skip
    OldSession.objects.create(session_key="anon" + "x" * 28, expire_date=soon,
                              session_data=DjangosStore().encode({"greeting": "你好"}))  # fmt: skip
    OldSession.objects.create(session_key="gone" + "x" * 28, expire_date=timezone.now(),
                              session_data=DjangosStore().encode({SESSION_KEY: str(person.pk)}))  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = {s.session_key[:4]: s.user_id for s in Session.objects.all()}
    assert moved == {"live": person.pk, "anon": None}
    assert SessionStore("live" + "x" * 28)[SESSION_KEY] == str(person.pk)
    assert not OldSession.objects.exists()


def test_an_admin_ends_someones_session_from_the_admin(login, coordinator, sysadmin):
    from django.test import Client

    person = login(coordinator)
    assert person.get(reverse("home")).context["user"] == coordinator
    session = Session.objects.get(user=coordinator)
    admin = Client()  # another browser
    admin.force_login(sysadmin)
    listing = admin.get(reverse("admin:portal_usersession_changelist")).content.decode()
    assert str(coordinator) in listing
    assert session.session_data not in listing  # the contents are never shown
    admin.post(reverse("admin:portal_usersession_delete", args=[session.pk]), {"post": "yes"})
    assert person.get(reverse("people")).status_code == 302  # logged out at once


def test_expired_sessions_are_cleared_by_the_periodic_task(db, coordinator):
    from portal.tasks import clear_expired_sessions

    live, expired = SessionStore(), SessionStore()
    for store in (live, expired):
        store["greeting"] = "你好"
        store.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    clear_expired_sessions.delay()  # eager in tests: the task's real code
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


# --- every change counts from the next request --------------------------------------------------


def _person_on_next_request(client):
    return client.get("/ping").wsgi_request.user


def test_logging_out_ends_the_session_for_every_copy_of_its_cookie(login, coordinator):
    first = login(coordinator)
    second = Client()  # the same cookie in another browser (or in a thief's hands)
    second.cookies = SimpleCookie({k: v.value for k, v in first.cookies.items()})
    assert _person_on_next_request(second) == coordinator
    first.post(reverse("account_logout"))
    assert not _person_on_next_request(second).is_authenticated


def test_an_account_switched_off_is_logged_out_on_its_next_request(login, coordinator):
    client = login(coordinator)
    assert _person_on_next_request(client) == coordinator
    coordinator.is_active = False
    coordinator.save(update_fields=["is_active"])
    assert not _person_on_next_request(client).is_authenticated


def test_a_new_password_ends_the_other_sessions_at_once(login, coordinator):
    client = login(coordinator)
    assert _person_on_next_request(client) == coordinator
    coordinator.set_password("a-new-password-for-108")
    coordinator.save()
    assert not _person_on_next_request(client).is_authenticated
