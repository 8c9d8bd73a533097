"""allauth adapters: local sign-up only through an invitation; OIDC users may arrive without a role
and wait for approval."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return bool(request.session.get("invitation_token"))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True  # the account exists but has no role until bureau staff approve it
