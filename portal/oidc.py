"""OpenID Connect with a nonce.

allauth's generic OpenID Connect provider sends `state` and PKCE but no `nonce`. This subclass
adds a fresh nonce to every authorization request and keeps it in allauth's login state;
`SocialAccountAdapter.pre_social_login` refuses an ID token whose nonce differs. Selected with
SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"].
"""

import secrets

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider


class NonceOpenIDConnectProvider(OpenIDConnectProvider):
    package = "allauth.socialaccount.providers.openid_connect"  # reuse its URLs and views

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(24)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )


def id_token_nonce_matches(sociallogin):
    expected = (sociallogin.state or {}).get("nonce")
    id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
    return bool(expected) and secrets.compare_digest(str(id_token.get("nonce", "")), expected)
