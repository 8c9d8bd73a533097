from datetime import timedelta

from django import forms

from portal.models import School

from .models import Metric, RuleAction, RuleMode, VirtualMachine


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


RuleFormSet = forms.formset_factory(RuleRowForm, extra=0, min_num=1, validate_min=True,
                                    max_num=20)  # fmt: skip


class VersionForm(forms.Form):
    effective_from = forms.DateTimeField(
        label="生效時間", help_text="例如 2019-10-01 08:00（臺北時間）；不可早於現在（不溯及既往）",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
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
    starts_at = forms.DateTimeField(
        label="開始", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="結束", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
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
    name = forms.CharField(label="收集器名稱", max_length=80, help_text="例如：機房主機 1 收集器")


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV 檔（vm,ts,cpu_percent,net_kbps）")
