"""allauth adapters: local sign-up only through a usable invitation; OIDC users may arrive without
a role and wait for approval; every OIDC login must carry the nonce we sent."""

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.shortcuts import render

from . import audit
from .oidc import NonceOpenIDConnectProvider, id_token_nonce_matches
from .services import InvitationError, invitation_usable

# the session remembers the invitation whose link was opened, until the account is made
INVITATION_SESSION_KEY = "invitation_token"


def invitation_remember(request, invitation):
    """Opens sign-up for this invitation in this browser. The invited address is allauth's
    "verified e-mail" of the session: the link came to that mailbox, so the account starts with
    the address verified and no confirmation mail is needed."""
    request.session[INVITATION_SESSION_KEY] = invitation.token
    get_adapter(request).stash_verified_email(request, invitation.email)


def invitation_token_of(request):
    return request.session.get(INVITATION_SESSION_KEY)


def invitation_forget(request):
    request.session.pop(INVITATION_SESSION_KEY, None)
    request.session.pop("account_verified_email", None)


def invitation_refused(request, error):
    """The page for an invitation that cannot be used: why, and what to do next; audited."""
    invitation_forget(request)
    audit.record("invitation.refused", request=request, reason=error.reason)
    return render(
        request,
        "portal/invitation_refused.html",
        {"message": str(error), "reason": error.reason},
        status=error.status,
    )


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Open only while this browser holds an invitation that can still be used; one that has
        since been used, has expired or was withdrawn gets its own page instead of the form."""
        token = invitation_token_of(request)
        if not token:
            return False
        try:
            invitation_usable(token)
        except InvitationError as exc:
            raise ImmediateHttpResponse(invitation_refused(request, exc)) from exc
        return True


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
