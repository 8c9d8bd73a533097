"""Forms of the meeting before it happens: every date and time typed in ROC."""

from django import forms

from portal import rocdate
from portal.forms_fields import ROCDateField, ROCDateTimeField


class ROCTimeField(forms.Field):
    """上午 10 時, 下午 2 時 30 分 or 14:30."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "例如：上午 10 時、下午 2 時 30 分或 14:30")
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return rocdate.format_time(value) if hasattr(value, "hour") else value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return rocdate.parse_time(value)
        except rocdate.ROCDateError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class PlanForm(forms.Form):
    title = forms.CharField(
        label="會議名稱", max_length=120, help_text="例如：115 年度 10 月份聯席會議"
    )
    held_on = ROCDateField(label="會議日期")
    start_time = ROCTimeField(label="開始時間")
    place = forms.CharField(label="會議地點", max_length=200)
    chair = forms.CharField(label="主持人", max_length=60, required=False)
    recorder = forms.CharField(label="紀錄", max_length=60, required=False)
    proposals_due = ROCDateTimeField(
        label="提案截止",
        required=False,
        help_text="民國年與時間，例如 115/10/6 17:00；空白表示不收提案",
    )

    def changes(self):
        return {name: self.cleaned_data[name] for name in PlanForm.base_fields}


class ChangeForm(PlanForm):
    reason = forms.CharField(
        label="變更說明", max_length=300, required=False,
        help_text="開會通知已發布時必填：會寄給所有資訊組長與分區代表",
    )  # fmt: skip

    def __init__(self, *args, noticed=False, **kwargs):
        super().__init__(*args, **kwargs)
        if noticed:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=300)


class ProposalForm(forms.Form):
    district = forms.ModelChoiceField(label="提案分區", queryset=None, empty_label=None)
    subject = forms.CharField(label="案由", widget=forms.Textarea(attrs={"rows": 2}))
    explanation = forms.CharField(label="說明", widget=forms.Textarea(attrs={"rows": 5}))
    method = forms.CharField(
        label="辦法", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="可不填"
    )

    def __init__(self, *args, districts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if districts is None:
            del self.fields["district"]
        else:
            self.fields["district"].queryset = districts


class ProposalReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300, required=False)
    into = forms.IntegerField(required=False, min_value=1)


class DivisionReportForm(forms.Form):
    division = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    text = forms.CharField(
        label="新增業務報告", widget=forms.Textarea(attrs={"rows": 4}), help_text="每行一項"
    )
