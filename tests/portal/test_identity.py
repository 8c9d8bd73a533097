"""The per-request identity: the session read in plain SQL (portal/sessions.py) and the user read
with their roles in one query (portal/auth_backends.py). Both must behave exactly as Django's own
and never keep a role or a session a moment longer than the database does."""

from datetime import timedelta

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import access
from portal.auth_backends import PortalAuthenticationBackend, PortalModelBackend
from portal.models import Membership, Role
from portal.sessions import SessionStore
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


def test_a_role_given_or_taken_counts_from_the_next_request(login, coordinator):
    client = login(coordinator)
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
    client = login(coordinator)
    assert client.get(reverse("home")).context["user"] == coordinator
    Session.objects.all().delete()  # e.g. logout in another tab
    assert client.get(reverse("people")).status_code == 302
