from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.db import transaction

from .adapters import invitation_forget, invitation_refused, invitation_token_of
from .models import Invitation
from .services import InvitationError, invitation_accept, invitation_usable


class LoginForm(AllauthLoginForm):
    """allauth's login form with a label people understand (帳號或電子郵件, not 登入)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "帳號或電子郵件"
        self.fields["login"].widget.attrs["autocomplete"] = "username"


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form for the person an invitation names (sign-up is open only with one,
    portal/adapters.py): the e-mail address is the invited one, and creating the account uses
    the invitation up in the same transaction, or neither happens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = context.request
        token = invitation_token_of(request) if request is not None else None
        self.invitation_token = token
        self.invited_email = (
            Invitation.objects.filter(token=token).values_list("email", flat=True).first()
            if token
            else None
        )
        if self.invited_email:
            field = self.fields["email"]
            field.initial = self.invited_email
            field.widget.attrs["readonly"] = True
            field.help_text = "邀請寄到這個電子郵件，帳號必須使用它。"

    def clean_email(self):
        typed = (self.cleaned_data.get("email") or "").strip().lower()
        if self.invited_email is None or typed != self.invited_email.lower():
            raise forms.ValidationError(
                f"這個邀請寄給 {self.invited_email}，帳號必須使用這個電子郵件。"
                if self.invited_email
                else "沒有有效的邀請，無法建立帳號。"
            )
        email = super().clean_email()
        if self.account_already_exists:
            # not allauth's "check your mail" answer that hides who has an account: whoever
            # holds the invitation knows the address, and needs to hear that they can log in
            raise forms.ValidationError(
                "這個電子郵件已經有帳號：請用本頁的「登入」連結登入，登入後就會接受邀請。"
            )
        return email

    def try_save(self, request):
        try:
            with transaction.atomic():
                # the invitation's row is locked before the account is made: a second tab (or a
                # replay) waits here, then finds it used and is refused, with nothing created
                invitation_usable(self.invitation_token, for_update=True)
                user, response = super().try_save(request)
                if user is not None:
                    invitation_accept(token=self.invitation_token, user=user, request=request)
                    invitation_forget(request)
        except InvitationError as exc:
            return None, invitation_refused(request, exc)
        return user, response
