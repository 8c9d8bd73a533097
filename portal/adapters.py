"""allauth adapters: local sign-up only through an invitation; OIDC users may arrive without a role
and wait for approval; every OIDC login must carry the nonce we sent."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.shortcuts import render

from . import audit
from .oidc import NonceOpenIDConnectProvider, id_token_nonce_matches


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return bool(request.session.get("invitation_token"))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True  # the account exists but has no role until bureau staff approve it

    def pre_social_login(self, request, sociallogin):
        provider = sociallogin.account.get_provider()
        if isinstance(provider, NonceOpenIDConnectProvider) and not id_token_nonce_matches(
            sociallogin
        ):
            audit.record(
                "login.oidc_refused", request=request, target=sociallogin.account.provider,
                reason="nonce mismatch",
            )  # fmt: skip
            raise ImmediateHttpResponse(render(request, "portal/oidc_refused.html", status=400))
