"""OpenID Connect against a real (local) identity provider: PKCE, state and nonce are checked,
and people are keyed on provider + subject, never merged into an account by e-mail."""

from urllib.parse import parse_qs, urlparse

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal.models import AuditEvent
from tests import factories
from tests.oidc_idp import LocalIdentityProvider


@pytest.fixture
def idp(settings):
    with LocalIdentityProvider() as provider:
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                **settings.SOCIALACCOUNT_PROVIDERS["openid_connect"],
                "APPS": [{
                    "provider_id": "ntpc", "name": "新北市 OpenID", "client_id": "portal",
                    "secret": "s3cret",
                    "settings": {"server_url": provider.url, "oauth_pkce_enabled": True,
                                 "token_auth_method": "client_secret_post"},
                }],
            }
        }  # fmt: skip
        yield provider


def start_login(client):
    response = client.post("/accounts/oidc/ntpc/login/")
    assert response.status_code == 302, response.content
    url = urlparse(response["Location"])
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def finish_login(client, idp, params, **override):
    callback = urlparse(idp.authorize({**params, **override}))
    return client.get(callback.path + "?" + callback.query)


def test_a_teacher_logs_in_through_the_city_openid_and_waits_for_approval(client, idp, db):
    params = start_login(client)
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["nonce"] and params["state"]
    response = finish_login(client, idp, params)
    assert response.status_code == 302
    assert "code_verifier" in idp.token_requests[-1]  # PKCE verified by the provider
    account = SocialAccount.objects.get(provider="ntpc", uid="ntpc-0001")
    assert "等待核准" in client.get("/").content.decode()
    assert account.user.is_authenticated


def test_a_forged_state_is_refused(client, idp, db):
    params = start_login(client)
    response = finish_login(client, idp, params, state="forged-state")
    assert not SocialAccount.objects.exists()
    assert "_auth_user_id" not in client.session
    assert response.status_code == 401  # allauth's authentication error page


def test_an_id_token_with_another_nonce_is_refused(client, idp, db):
    idp.nonce_override = "replayed-nonce"
    params = start_login(client)
    response = finish_login(client, idp, params)
    assert response.status_code == 400
    assert "無法完成 OpenID 登入" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.oidc_refused").exists()


def test_the_same_email_does_not_merge_into_an_existing_account(client, idp, db):
    local = factories.UserFactory(username="wang", email="teacher@xdes.ntpc.edu.tw")
    params = start_login(client)
    response = finish_login(client, idp, params)
    # allauth asks the newcomer to sign up with another address instead of taking over `wang`
    assert response["Location"] == reverse("socialaccount_signup")
    assert not SocialAccount.objects.filter(user=local).exists()
    assert "_auth_user_id" not in client.session
    assert get_user_model().objects.count() == 1
