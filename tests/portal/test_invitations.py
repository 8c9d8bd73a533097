"""Sign-up is closed except through an invitation that can still be used, for the invited address
only; every misuse gets a page saying why, and leaves no account behind."""

import threading
from datetime import timedelta
from urllib.parse import quote

import psycopg2
import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Invitation, Membership, Role
from tests import factories
from tests.conftest import wait_for

User = get_user_model()
INVITED = "lin.teacher@xdes.ntpc.edu.tw"


@pytest.fixture
def invitation(bureau, xindian_school):
    """Bureau staff invited 林老師 to be 新店國小's coordinator."""
    return Invitation.objects.create(email=INVITED, school=xindian_school, invited_by=bureau)


def open_link(client, token):
    return client.get(reverse("invitation_accept", args=[token]))


def sign_up(client, username="lin-teacher", email=INVITED):
    return client.post(
        reverse("account_signup"),
        {
            "username": username,
            "email": email,
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
    )


def accounts():
    return set(User.objects.values_list("username", flat=True))


def refused(response, status, *words):
    body = response.content.decode()
    assert response.status_code == status, (response.status_code, body[:500])
    assert "邀請無法使用" in body
    for word in words:
        assert word in body
    return body


# --- the invited person ---------------------------------------------------------------------------


def test_the_invited_person_signs_up_and_becomes_the_schools_coordinator(client, invitation):
    open_link(client, invitation.token)
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    assert INVITED in page.content.decode()

    response = sign_up(client)

    assert response.status_code == 302
    lin = User.objects.get(username="lin-teacher")
    assert lin.email == INVITED
    assert EmailAddress.objects.filter(user=lin, email=INVITED, verified=True).exists()
    assert Membership.objects.filter(
        user=lin, role=Role.COORDINATOR, school=invitation.school
    ).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == lin
    assert "invitation_token" not in client.session


def test_someone_with_an_account_logs_in_and_then_accepts(client, invitation):
    lin = factories.UserFactory(username="lin-teacher", email=INVITED)
    EmailAddress.objects.create(user=lin, email=INVITED, verified=True, primary=True)
    client.force_login(lin)

    response = open_link(client, invitation.token)

    assert response.status_code == 302
    assert Membership.objects.filter(user=lin, school=invitation.school).exists()


# --- refusals -------------------------------------------------------------------------------------


def test_an_unknown_link_is_refused_and_sign_up_stays_closed(client, db):
    refused(open_link(client, "made-up-token"), 404, "連結無效")
    assert "註冊已關閉" in client.get(reverse("account_signup")).content.decode()
    sign_up(client)
    assert accounts() == set()
    assert AuditEvent.objects.filter(action="invitation.refused", detail__reason="unknown")


@pytest.mark.parametrize("token", ["x" * 65, "abc.def", "  "])
def test_a_malformed_link_is_refused_like_an_unknown_one(client, db, token):
    refused(client.get(f"/invite/{quote(token)}/"), 404, "連結無效")


def test_a_link_with_a_nul_byte_is_refused_before_any_lookup(client, db):
    response = client.get("/invite/a%00b/")
    assert response.status_code == 400
    assert "控制字元" in response.content.decode()
    assert accounts() == set()


def test_a_used_invitation_is_refused(client, invitation, coordinator):
    invitation.accepted_by, invitation.accepted_at = coordinator, timezone.now()
    invitation.save()
    before = accounts()

    refused(open_link(client, invitation.token), 410, "已經使用過")
    sign_up(client)

    assert accounts() == before


def test_an_expired_invitation_is_refused(client, invitation):
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save()

    refused(open_link(client, invitation.token), 410, "過期", "索取新的邀請")
    sign_up(client)

    assert accounts() == {invitation.invited_by.username}


def test_an_invitation_that_expires_while_the_form_is_open_is_refused(client, invitation):
    open_link(client, invitation.token)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())

    refused(sign_up(client), 410, "過期")

    assert accounts() == {invitation.invited_by.username}


def test_a_withdrawn_invitation_is_refused_on_the_form(client, invitation):
    open_link(client, invitation.token)
    invitation.delete()  # bureau staff withdrew it in the admin

    refused(sign_up(client), 404, "撤銷")

    assert accounts() == {invitation.invited_by.username}


def test_another_address_cannot_sign_up_with_the_invitation(client, invitation):
    open_link(client, invitation.token)

    response = sign_up(client, username="intruder", email="intruder@gmail.com")

    assert response.status_code == 200
    assert f"這個邀請寄給 {INVITED}" in response.content.decode()
    assert "intruder" not in accounts()
    assert not Membership.objects.filter(school=invitation.school).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_link_is_not_replayed_after_use(client, invitation):
    second_tab = Client()
    open_link(client, invitation.token)
    open_link(second_tab, invitation.token)
    assert sign_up(client).status_code == 302

    refused(sign_up(second_tab, username="lin-again"), 410, "已經使用過")
    refused(open_link(Client(), invitation.token), 410)

    assert "lin-again" not in accounts()
    assert Membership.objects.filter(school=invitation.school).count() == 1


def test_posting_to_sign_up_without_an_invitation_makes_no_account(client, db):
    response = sign_up(client, username="walk-in", email="walk-in@gmail.com")

    assert response.status_code == 200
    assert "註冊已關閉" in response.content.decode()
    assert accounts() == set()


def test_a_logged_in_stranger_cannot_take_someone_elses_invitation(login, invitation, coordinator):
    """新店國小's coordinator is logged in with her own address; the link was for 林老師."""
    refused(open_link(login(coordinator), invitation.token), 403, INVITED, "登出")

    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert Membership.objects.filter(user=coordinator).count() == 1


def test_a_logged_in_person_goes_home_instead_of_signing_up(client, coordinator, invitation):
    open_link(client, invitation.token)
    client.force_login(coordinator)

    response = sign_up(client, username="second-account")

    assert response.status_code == 302
    assert "second-account" not in accounts()


# --- two tabs at once (PostgreSQL) ----------------------------------------------------------------


def _waiting_for_a_row_lock(how_many):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0] >= how_many


@pytest.mark.django_db(transaction=True)
def test_two_tabs_submitting_at_once_make_one_account(bureau, xindian_school):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    invitation = Invitation.objects.create(email=INVITED, school=xindian_school, invited_by=bureau)
    tabs = [Client(), Client()]
    for tab in tabs:
        open_link(tab, invitation.token)
    answers = {}

    def submit(tab, username):
        try:
            answers[username] = sign_up(tab, username=username)
        finally:
            connection.close()

    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # hold the invitation, so both submissions queue on it
            cursor.execute(
                "SELECT 1 FROM portal_invitation WHERE id = %s FOR UPDATE", [invitation.pk]
            )
            threads = [
                threading.Thread(target=submit, args=(tab, name))
                for tab, name in zip(tabs, ["lin-tab-1", "lin-tab-2"], strict=True)
            ]
            for thread in threads:
                thread.start()
            wait_for(lambda: _waiting_for_a_row_lock(2), message="both tabs waiting")
        other.commit()
    finally:
        other.close()
    for thread in threads:
        thread.join()

    statuses = sorted(response.status_code for response in answers.values())
    assert statuses == [302, 410]
    made = accounts() & {"lin-tab-1", "lin-tab-2"}
    assert len(made) == 1
    assert Membership.objects.filter(school=xindian_school).count() == 1
    assert Membership.objects.get(school=xindian_school).user.username in made
