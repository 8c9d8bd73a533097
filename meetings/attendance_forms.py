"""Forms of attendance: a school's reply, the sign-in, the recorder's ticks, a timetable note."""

from django import forms

from .attendance_models import AttendanceReply


class ReplyForm(forms.Form):
    school = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.ChoiceField(
        label="回覆", choices=AttendanceReply.Answer.choices, widget=forms.RadioSelect
    )
    attendee = forms.CharField(
        label="出席（或代理）人員", max_length=60, required=False,
        help_text="代理出席時必填代理人姓名",
    )  # fmt: skip
    note = forms.CharField(label="說明", max_length=200, required=False)


class SignInForm(forms.Form):
    code = forms.CharField(
        label="簽到代碼", max_length=6, min_length=6,
        help_text="會場畫面上的 6 位數字（掃描 QR code 會自動帶入）",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )  # fmt: skip
    school = forms.ModelChoiceField(label="學校", queryset=None, empty_label=None)
    name = forms.CharField(label="簽到人", max_length=60)

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class TimetableForm(forms.Form):
    school = forms.ModelChoiceField(label="學校", queryset=None, empty_label=None)
    teacher = forms.CharField(label="教師", max_length=60)
    classes = forms.CharField(
        label="衝堂課務", max_length=300, help_text="例如：週二第 2、3 節 六年三班資訊課"
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class CodeQuery(forms.Form):
    code = forms.CharField(label="簽到代碼", max_length=6, required=False)


class YearQuery(forms.Form):
    year = forms.IntegerField(label="年度", min_value=90, max_value=300, required=False)
