from django import forms

from portal.forms_fields import ROCDateField
from portal.models import Division

from . import transitions


class StatusUpdateForm(forms.Form):
    text = forms.CharField(
        label="辦理情形",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="寫明目前的辦理進度；下次會議的「現辦理情形」會列出會後填報的每一則。",
        error_messages={"required": "請填寫辦理情形，空白的辦理情形不會儲存。"},
    )

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("請填寫辦理情形，空白的辦理情形不會儲存。")
        return text


class AssignForm(forms.Form):
    division = forms.ModelChoiceField(
        label="承辦組別", queryset=Division.objects.all(), required=False, empty_label="（未指定）"
    )
    reason = forms.CharField(label="原因", required=False, max_length=200)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label="決議", choices=transitions.CHOICES)
    merge_into = forms.CharField(
        label="併入案號",
        required=False,
        max_length=20,
        help_text="決議「併案」時必填，例如 108-09-01",
    )
    current_status = forms.CharField(
        label="現辦理情形", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # the 現辦理情形 the form showed: when it is submitted unchanged, an update posted meanwhile is
    # not overwritten by this older text
    status_seen = forms.CharField(required=False, widget=forms.HiddenInput)
    resolution = forms.CharField(
        label="決議文字",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="空白時依決議類別自動填入，例如「本案解列。」",
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "merge" and not data.get("merge_into"):
            self.add_error("merge_into", "併案須指明併入哪一個案號。")
        return data


class NextMeetingForm(forms.Form):
    held_on = ROCDateField(label="會議日期")
    title = forms.CharField(
        label="會議名稱",
        required=False,
        max_length=120,
        help_text="空白時為「108 年度 10 月份聯席會議」的格式",
    )
    place = forms.CharField(label="會議地點", required=False, max_length=200)
