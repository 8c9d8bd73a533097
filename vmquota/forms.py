from datetime import timedelta

from django import forms

from portal.forms_fields import ModelIdsField, ROCDateTimeField
from portal.formsets import ChineseFormSetMixin
from portal.models import School

from .models import CollectorToken, Hypervisor, Metric, RuleAction, RuleMode, VirtualMachine


class RuleRowForm(forms.Form):
    metric = forms.ChoiceField(label="指標", choices=Metric.choices)
    threshold = forms.FloatField(label="門檻（≥）", min_value=0)
    minutes = forms.IntegerField(label="連續分鐘", min_value=1, max_value=24 * 60, initial=30)
    action = forms.ChoiceField(label="處置", choices=RuleAction.choices)
    mode = forms.ChoiceField(label="模式", choices=RuleMode.choices, initial="enforce")

    def clean(self):
        data = super().clean()
        if data.get("metric") == "cpu_percent" and data.get("threshold", 0) > 100:
            self.add_error("threshold", "CPU 門檻不可超過 100")
        return data

    def as_rule(self):
        d = self.cleaned_data
        return {"metric": d["metric"], "threshold": d["threshold"],
                "duration": timedelta(minutes=d["minutes"]), "action": d["action"],
                "mode": d["mode"]}  # fmt: skip


class BaseRuleFormSet(ChineseFormSetMixin, forms.BaseFormSet):
    too_many = "一個政策最多 %(num)d 條規則。"


# absolute_max: Django's default (max_num + 1000) would build 1 020 forms for a hostile TOTAL_FORMS
RuleFormSet = forms.formset_factory(RuleRowForm, formset=BaseRuleFormSet, extra=0, min_num=1,
                                    validate_min=True, max_num=20, absolute_max=20)  # fmt: skip


class VersionForm(forms.Form):
    effective_from = ROCDateTimeField(
        label="生效時間", help_text="民國年與時間，例如 115/12/31 08:00（臺北時間）；不可早於現在（不溯及既往）",
    )  # fmt: skip
    max_gap_minutes = forms.IntegerField(label="容許資料中斷（分鐘）", min_value=1, max_value=60,
                                         initial=5)  # fmt: skip
    announcement = forms.CharField(label="公告內容", widget=forms.Textarea(attrs={"rows": 4}))


class ExemptionForm(forms.Form):
    vm = forms.ModelChoiceField(
        label="虛擬機", queryset=VirtualMachine.objects.all(), required=False
    )
    school = forms.ModelChoiceField(
        label="或整個學校", queryset=School.objects.all(), required=False
    )
    starts_at = ROCDateTimeField(label="開始")
    ends_at = ROCDateTimeField(label="結束")
    reason = forms.CharField(label="理由", max_length=300)

    def clean(self):
        data = super().clean()
        if bool(data.get("vm")) == bool(data.get("school")):
            raise forms.ValidationError("請選擇一台虛擬機或一所學校（擇一）")
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "結束必須晚於開始")
        return data


class AssignForm(forms.Form):
    school = forms.ModelChoiceField(label="所屬學校", queryset=School.objects.all(), required=False)


class TokenForm(forms.Form):
    """A new collector token and its scope: the hosts whose VMs it may post for, or a school."""

    name = forms.CharField(label="收集器名稱", max_length=80, help_text="例如：機房主機 1 收集器")
    hypervisors = ModelIdsField(
        label="可送出這些主機上的虛擬機",
        queryset=Hypervisor.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="機房的收集器：勾選它負責的主機。",
        error_messages={"invalid_choice": "沒有這台主機：%(value)s",
                        "invalid_pk_value": "「%(pk)s」不是有效的主機。"},
    )  # fmt: skip
    school = forms.ModelChoiceField(
        label="或：這所學校的虛擬機",
        queryset=School.objects.order_by("code"),
        required=False,
        help_text="學校自己的收集器：只能送出該校的虛擬機。",
        error_messages={"invalid_choice": "沒有這所學校。"},
    )

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("hypervisors") and not data.get("school"):
            raise forms.ValidationError(
                "請選擇權杖的收集範圍（主機或學校，至少一項）：權杖只能送出範圍內虛擬機的樣本。"
            )
        return data


class RevokeTokenForm(forms.Form):
    revoke = forms.ModelChoiceField(
        queryset=CollectorToken.objects.filter(revoked_at__isnull=True),
        error_messages={"required": "請選擇要撤銷的權杖。",
                        "invalid_choice": "找不到這個權杖，或它已經撤銷；請重新整理頁面再試。"},
    )  # fmt: skip


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV 檔（vm,ts,cpu_percent,net_kbps）")


class HistoryForm(forms.Form):
    """The query string of a VM's week or month page."""

    days = forms.TypedChoiceField(
        label="期間", choices=[(7, "7 天"), (30, "30 天")], coerce=int, required=False
    )
