from allauth.account.forms import LoginForm as AllauthLoginForm


class LoginForm(AllauthLoginForm):
    """allauth's login form with a label people understand (帳號或電子郵件, not 登入)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "帳號或電子郵件"
        self.fields["login"].widget.attrs["autocomplete"] = "username"
