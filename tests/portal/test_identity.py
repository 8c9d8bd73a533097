"""The per-request identity: the session read in plain SQL (portal/sessions.py) and the user read
with their roles in one query (portal/auth_backends.py). Both must behave exactly as Django's own
and never keep a role or a session a moment longer than the database does."""

from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import access
from portal.auth_backends import (
    PortalAuthenticationBackend,
    PortalModelBackend,
    _session_with_user_sql,
)
from portal.models import Membership, Role
from portal.models import UserSession as Session
from portal.sessions import CACHE_PREFIX, CACHED_S, NOT_READ, SessionStore, _keep
from tests import factories


@pytest.mark.parametrize("backend", [PortalModelBackend, PortalAuthenticationBackend])
def test_the_user_comes_back_with_every_role(backend, db, xindian_school, wenshan):
    division = factories.DivisionFactory(name="網管資安組")
    user = factories.coordinator_of(xindian_school, username="many-hats")
    Membership.objects.create(user=user, role=Role.CONVENER, district=wenshan)
    Membership.objects.create(user=user, role=Role.BUREAU, division=division)

    loaded = backend().get_user(user.pk)

    assert loaded == user
    assert access.roles_of(loaded) == access.Roles(
        coordinator_school_ids=frozenset({xindian_school.pk}),
        convener_district_ids=frozenset({wenshan.pk}),
        bureau_division_ids=frozenset({division.pk}),
        is_bureau=True,
    )
    # the same roles as the ORM path gives a user loaded another way
    fresh = type(user).objects.get(pk=user.pk)
    assert access.roles_of(fresh) == access.roles_of(loaded)
    # the joined columns leave no attribute behind on the user
    assert not [name for name in vars(loaded) if name.startswith("portal_membership_")]


def test_a_user_without_roles_and_an_admin_flag(db):
    plain = factories.UserFactory(username="plain")
    superuser = factories.UserFactory(username="root", is_superuser=True)
    backend = PortalAuthenticationBackend()
    assert access.roles_of(backend.get_user(plain.pk)) == access.NO_ROLES
    assert access.roles_of(backend.get_user(superuser.pk)).is_admin


def test_the_user_is_read_with_the_roles_in_one_query(db, coordinator):
    with CaptureQueriesContext(connection) as queries:
        user = PortalAuthenticationBackend().get_user(coordinator.pk)
        access.roles_of(user)
        access.is_staff(user)
    assert len(queries) == 1


@pytest.mark.parametrize("user_id", [999_999, "not-a-number", None])
def test_an_unknown_or_malformed_id_is_nobody(db, user_id):
    assert PortalAuthenticationBackend().get_user(user_id) is None


def test_a_disabled_account_is_nobody(db, coordinator):
    coordinator.is_active = False
    coordinator.save()
    assert PortalAuthenticationBackend().get_user(coordinator.pk) is None


def kept_login(login, person):
    """A client logged in more than FORGET_S seconds ago, its session's read kept in the cache
    (so that what follows shows the change dropping it, not a read of the database)."""
    client = login(person)
    cache.clear()  # the login's mark is gone
    client.get("/ping")
    assert cache.get(CACHE_PREFIX + client.cookies[settings.SESSION_COOKIE_NAME].value)
    return client


def test_a_role_given_or_taken_counts_from_the_next_request(login, coordinator):
    client = kept_login(login, coordinator)
    assert client.get(reverse("audit_log")).status_code == 403
    granted = Membership.objects.create(user=coordinator, role=Role.BUREAU)
    assert client.get(reverse("audit_log")).status_code == 200
    granted.delete()
    assert client.get(reverse("audit_log")).status_code == 403


def test_login_stores_the_portals_backend(client, coordinator):
    client.post(
        reverse("account_login"), {"login": coordinator.username, "password": factories.PASSWORD}
    )
    assert client.session[BACKEND_SESSION_KEY].startswith("portal.auth_backends.")
    assert client.get(reverse("home")).context["user"] == coordinator


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
    client = kept_login(login, coordinator)
    assert client.get(reverse("home")).context["user"] == coordinator
    Session.objects.all().delete()  # e.g. logout in another tab
    assert client.get(reverse("people")).status_code == 302


# --- the session and its person in one statement (portal.UserSession) ------------------------


def _identity_reads(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    identity = [
        q["sql"]
        for q in queries
        if ("portal_usersession" in q["sql"] or "portal_session_with_user" in q["sql"])
        and not q["sql"].startswith("PREPARE")  # PostgreSQL: once per connection
    ]
    assert not [q for q in queries if 'FROM "portal_user"' in q["sql"]], "the person read again"
    return response, identity


def test_a_logged_in_request_reads_session_person_and_roles_in_one_statement(login, coordinator):
    client = login(coordinator)
    client.get("/ping")  # the session's once-a-minute refresh is not what this test counts
    cache.clear()  # nothing kept from the refresh's read
    response, identity = _identity_reads(client, "/ping")
    assert response.wsgi_request.user == coordinator
    assert access.roles_of(response.wsgi_request.user).coordinator_school_ids
    assert len(identity) == 1
    assert "portal_membership" in _session_with_user_sql(connection.alias)


def test_the_next_requests_take_that_read_from_the_cache(login, coordinator):
    client = login(coordinator)
    cache.clear()  # FORGET_S seconds after the login's write (its mark is gone)
    client.get("/ping")
    response, identity = _identity_reads(client, "/ping")
    assert identity == []
    assert response.wsgi_request.user == coordinator
    assert access.roles_of(response.wsgi_request.user).coordinator_school_ids
    assert response.wsgi_request.user.get_full_name() == coordinator.get_full_name()


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
    assert again.user_read_with_session(1) is NOT_READ


def test_deleting_an_account_ends_its_sessions(login, coordinator):
    client = kept_login(login, coordinator)
    assert client.get(reverse("home")).context["user"] == coordinator
    coordinator.delete()
    assert not Session.objects.exists()
    assert client.get(reverse("people")).status_code == 302


def test_the_person_read_with_the_row_is_used_only_when_the_session_names_them(
    login, coordinator, other_coordinator
):
    """A row whose column disagrees with the signed session data (it cannot happen through the
    store; here it is forced) falls back to reading the person the session data names."""
    client = login(coordinator)
    Session.objects.update(user=other_coordinator)
    assert client.get(reverse("home")).context["user"] == coordinator


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

    person = kept_login(login, coordinator)
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


# --- the read kept in the cache for CACHED_S seconds: every change counts from the next request --


def _person_on_next_request(client):
    return client.get("/ping").wsgi_request.user


def test_logging_out_ends_the_session_for_every_copy_of_its_cookie(login, coordinator):
    first = kept_login(login, coordinator)
    second = Client()  # the same cookie in another browser (or in a thief's hands)
    second.cookies = SimpleCookie({k: v.value for k, v in first.cookies.items()})
    assert _person_on_next_request(second) == coordinator
    first.post(reverse("account_logout"))
    assert not _person_on_next_request(second).is_authenticated


def test_an_account_switched_off_is_logged_out_on_its_next_request(login, coordinator):
    client = kept_login(login, coordinator)
    assert _person_on_next_request(client) == coordinator
    coordinator.is_active = False
    coordinator.save(update_fields=["is_active"])
    assert not _person_on_next_request(client).is_authenticated


def test_a_new_password_ends_the_other_sessions_at_once(login, coordinator):
    client = kept_login(login, coordinator)
    assert _person_on_next_request(client) == coordinator
    coordinator.set_password("a-new-password-for-108")
    coordinator.save()
    assert not _person_on_next_request(client).is_authenticated


def test_a_kept_read_past_the_sessions_expiry_is_not_used(login, coordinator):
    client = login(coordinator)
    cache.clear()  # FORGET_S seconds after the login's write
    assert _person_on_next_request(client) == coordinator
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    session_data, _, person = cache.get(CACHE_PREFIX + key)
    cache.set(CACHE_PREFIX + key, (session_data, timezone.now() - timedelta(seconds=1), person))
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())  # ended here
    assert not _person_on_next_request(client).is_authenticated


def test_a_read_is_kept_no_longer_than_the_session_lives(db, coordinator, monkeypatch):
    kept = []
    monkeypatch.setattr("portal.sessions.cache.add", lambda k, v, seconds: kept.append(seconds))
    for lives_s in (600, 12):
        store = SessionStore()
        store[SESSION_KEY] = str(coordinator.pk)
        store.set_expiry(lives_s)
        store.create()
        SessionStore(store.session_key).load()
    assert kept[0] == CACHED_S and 10 <= kept[1] <= 12


def test_a_read_made_before_a_logout_cannot_be_kept_after_it(login, coordinator):
    """Two requests of one session at once: one reads the database, the other logs out, then
    the first keeps what it read. The logout's mark stays in its place."""
    client = login(coordinator)
    thief = Client()
    thief.cookies = SimpleCookie({k: v.value for k, v in client.cookies.items()})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = SessionStore(key)
    row = store._get_session_from_db()
    read_before = (store.decode(row.session_data), row.expire_date, store._user_read_with_session)
    client.post(reverse("account_logout"))
    _keep(key, read_before, CACHED_S)
    assert not _person_on_next_request(thief).is_authenticated
