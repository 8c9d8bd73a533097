import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from portal.models import Invitation, Membership, Role
from portal.services import InvitationError, invitation_accept
from tests import factories


def test_anonymous_visitors_get_the_welcome_page(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "登入" in response.content.decode()
    assert 'lang="zh-Hant"' in response.content.decode()


def test_the_home_page_greets_a_coordinator_with_their_school(login, coordinator):
    response = login(coordinator).get("/")
    body = response.content.decode()
    assert "新店國小" in body
    assert "民國" in body


def test_someone_without_a_role_waits_for_approval(login, db):
    newcomer = factories.UserFactory(username="oidc-newcomer")
    response = login(newcomer).get("/")
    assert response.status_code == 200
    assert "等待核准" in response.content.decode()


def test_a_wrong_password_is_explained_in_chinese(client, coordinator):
    response = client.post(
        reverse("account_login"), {"login": coordinator.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "密碼不正確" in response.content.decode()


def test_bureau_invites_a_coordinator_who_is_bound_to_the_school(
    login, bureau, xindian_school, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(bureau).post(
            reverse("people"),
            {"action": "invite", "email": "new@xdes.ntpc.edu.tw", "school": xindian_school.pk},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new@xdes.ntpc.edu.tw")
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body
    newcomer = factories.UserFactory(username="newcomer", email="new@xdes.ntpc.edu.tw")
    EmailAddress.objects.create(user=newcomer, email=newcomer.email, verified=True, primary=True)
    invitation_accept(token=invitation.token, user=newcomer)
    assert Membership.objects.filter(
        user=newcomer, role=Role.COORDINATOR, school=xindian_school
    ).exists()


def test_an_invitation_link_opens_sign_up_for_a_stranger(client, bureau, xindian_school):
    invitation = Invitation.objects.create(email="a@b.tw", school=xindian_school, invited_by=bureau)
    response = client.get(reverse("invitation_accept", args=[invitation.token]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_signup")
    assert response.status_code == 200


def test_sign_up_is_closed_without_an_invitation(client, db):
    response = client.get(reverse("account_signup"))
    assert "註冊已關閉" in response.content.decode() or response.status_code == 403


def test_a_used_invitation_cannot_be_used_again(bureau, xindian_school):
    invitation = Invitation.objects.create(email="a@b.tw", school=xindian_school, invited_by=bureau)
    first = factories.UserFactory(username="first", email="a@b.tw")
    EmailAddress.objects.create(user=first, email="a@b.tw", verified=True, primary=True)
    second = factories.UserFactory(username="second")
    invitation_accept(token=invitation.token, user=first)
    with pytest.raises(InvitationError, match="已經使用過"):
        invitation_accept(token=invitation.token, user=second)
    assert not Membership.objects.filter(user=second).exists()


def test_coordinators_cannot_open_the_people_page(login, coordinator):
    assert login(coordinator).get(reverse("people")).status_code == 403


def test_a_refusal_shows_the_reason_in_chinese(login, coordinator):
    response = login(coordinator).get(reverse("people"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "您沒有權限" in body
    assert 'lang="zh-Hant"' in body


def test_a_missing_page_says_so_in_chinese(login, coordinator):
    response = login(coordinator).get("/no-such-page/")
    assert response.status_code == 404
    assert "找不到這一頁" in response.content.decode()


def test_logging_in_greets_the_person_by_name(client, coordinator):
    coordinator.full_name = "新店國小資訊組長"
    coordinator.save()
    response = client.post(
        reverse("account_login"),
        {"login": coordinator.username, "password": factories.PASSWORD},
        follow=True,
    )
    assert "歡迎回來，新店國小資訊組長。" in response.content.decode()


def _menu(response):
    import re

    nav = re.search(r'<nav class="site-nav".*?</nav>', response.content.decode(), re.S).group(0)
    return re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav)


def test_the_menu_shows_each_person_their_entries_and_marks_the_current_one(
    login, coordinator, bureau
):
    coordinator_menu = _menu(login(coordinator).get("/meetings/"))
    assert ("/meetings/", ' aria-current="page"', "會議紀錄") in coordinator_menu
    assert ("/", "", "首頁") in coordinator_menu
    assert not any(label == "人員與邀請" for _, _, label in coordinator_menu)
    bureau_menu = _menu(login(bureau).get("/"))
    assert ("/people/", "", "人員與邀請") in bureau_menu
    assert ("/", ' aria-current="page"', "首頁") in bureau_menu


def test_the_menu_follows_the_script_prefix_it_is_served_under(coordinator):
    """The menu's addresses are remembered per URLconf and prefix, never across them."""
    from django.urls import get_script_prefix, set_script_prefix

    from portal.navigation import nav_for

    def urls():
        return {item["label"]: item["url"] for item in nav_for(coordinator, "/")}

    before = get_script_prefix()
    assert urls()["會議紀錄"] == "/meetings/"
    try:
        set_script_prefix("/portal/")
        assert urls()["會議紀錄"] == "/portal/meetings/"
    finally:
        set_script_prefix(before)
    assert urls()["會議紀錄"] == "/meetings/"
