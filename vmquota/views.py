"""Pages of the vmquota app: thin views – load through an access check, call one service."""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from portal import access
from portal.badinput import query_params
from portal.models import District, School

from . import selectors, services
from .actions import vm_resume_request
from .exemptions import exemption_grant
from .forms import (
    AssignForm,
    ExemptionForm,
    HistoryForm,
    RevokeTokenForm,
    RuleFormSet,
    TokenForm,
    UploadForm,
    VersionForm,
)
from .ingest import ingest_rows, read_csv
from .models import CollectorToken, Exemption, Incident, PolicyVersion, VirtualMachine, WhatIfRun
from .policy import active_version, coordinator_count, policy_version_create, version_changes


def _load_vm(request, pk):
    vm = get_object_or_404(VirtualMachine.objects.select_related("school", "hypervisor"), pk=pk)
    allowed = access.is_staff(request.user) or (
        vm.school is not None and access.can_view_school(request.user, vm.school)
    )
    access.require(request, allowed, "您只能檢視所屬學校的虛擬機。", vm=vm.pk)
    return vm


@access.role_required
def index(request):
    if not access.is_staff(request.user):
        schools = list(access.visible_schools(request.user).order_by("code"))
        if len(schools) == 1 and not access.roles_of(request.user).convener_district_ids:
            return redirect("vmquota:school", code=schools[0].code)
    else:
        schools = list(
            School.objects.select_related("district").filter(vms__isnull=False).distinct()
        )
    unassigned = (
        VirtualMachine.objects.filter(school__isnull=True).order_by("name")
        if access.is_staff(request.user) else []
    )  # fmt: skip
    return render(request, "vmquota/index.html",
                  {"schools": schools, "unassigned": unassigned, **_nav(request)})  # fmt: skip


@access.role_required
def school(request, code):
    school = get_object_or_404(School.objects.select_related("district"), code=code)
    access.require(request, access.can_view_school(request.user, school),
                   "您只能檢視所屬學校的虛擬機。", school=school.pk)  # fmt: skip
    return render(request, "vmquota/school.html",
                  {"school": school, "vms": selectors.school_vms(school), **_nav(request)})  # fmt: skip


@access.role_required
def vm_detail(request, pk):
    vm = _load_vm(request, pk)
    ctx = {"vm": vm, "body": selectors.vm_page_body(vm), **_nav(request)}
    if ctx["is_staff"]:
        ctx["assign_form"] = AssignForm(initial={"school": vm.school_id})
    return render(request, "vmquota/vm.html", ctx)


@access.role_required
def incident_detail(request, pk):
    incident = get_object_or_404(
        Incident.objects.select_related("vm__school", "vm__hypervisor", "rule__version",
                                        "exemption"), pk=pk)  # fmt: skip
    _load_vm(request, incident.vm_id)  # the incident is the VM's: the same readers
    return render(request, "vmquota/incident.html",
                  {**selectors.incident_page(incident), **_nav(request)})  # fmt: skip


@require_GET
@access.role_required
def vm_history(request, pk):
    vm = _load_vm(request, pk)
    days = query_params(request, HistoryForm)["days"] or 7
    ctx = {"vm": vm, "history": selectors.vm_history(vm, days), **_nav(request)}
    return render(request, "vmquota/vm_history.html", ctx)


@require_POST
@access.staff_required("只有教育局人員可以恢復執行虛擬機。")
def vm_resume(request, pk):
    vm = _load_vm(request, pk)
    vm_resume_request(vm=vm, actor=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, f"已送出恢復執行「{vm.name}」的要求，完成後會通知學校。")
    return redirect("vmquota:vm", pk=vm.pk)


@require_POST
@access.staff_required("只有教育局人員可以變更虛擬機的所屬學校。")
def vm_assign(request, pk):
    vm = _load_vm(request, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        services.vm_assign(vm=vm, school=form.cleaned_data["school"], actor=request.user)
        messages.success(request, "已更新所屬學校。")
    return redirect("vmquota:vm", pk=vm.pk)


def _nav(request):
    """What the VM pages' sub-navigation may offer this person (no link they may not follow)."""
    return {"is_staff": access.is_staff(request.user),
            "nav_districts": list(access.vm_districts_of(request.user))}  # fmt: skip


@access.staff_required("只有教育局人員可以檢視全市虛擬機看板。")
def board(request):
    return render(request, "vmquota/board.html", {**selectors.board(), **_nav(request)})


@access.role_required
def district(request, pk):
    district = get_object_or_404(District, pk=pk)
    access.require(request, access.can_view_district_vms(request.user, district),
                   "只有該分區的召集人與教育局人員可以檢視分區的虛擬機事件。",
                   district=district.pk)  # fmt: skip
    return render(request, "vmquota/district.html",
                  {**selectors.district_page(district), **_nav(request)})  # fmt: skip


@access.role_required
def policy(request):
    versions = PolicyVersion.objects.filter(published_at__isnull=False).select_related(
        "changed_by").prefetch_related("rules")  # fmt: skip
    active = active_version()
    return render(request, "vmquota/policy.html",
                  {"versions": versions, "active": active, **_nav(request)})  # fmt: skip


def _rule_initial():
    active = active_version()
    if active is None:
        from .evaluation import SEED_RULES

        return [{"metric": m, "threshold": t, "minutes": 30, "action": a, "mode": "enforce"}
                for m, t, a in SEED_RULES]  # fmt: skip
    return [{"metric": r.metric, "threshold": r.threshold,
             "minutes": int(r.duration.total_seconds() // 60), "action": r.action,
             "mode": r.mode} for r in active.rules.all()]  # fmt: skip


@access.staff_required("只有教育局人員可以發布新的資源政策。")
def policy_new(request):
    if request.method == "POST":
        form = VersionForm(request.POST)
        rules = RuleFormSet(request.POST, prefix="rules")
        if form.is_valid() and rules.is_valid():
            effective = form.cleaned_data["effective_from"]
            if effective < timezone.now() - timedelta(minutes=1):
                form.add_error("effective_from", "生效時間不可早於現在（不溯及既往）")
            elif "edit" in request.POST:
                pass  # back from the confirmation: the form again, as it was filled in
            elif "confirm" not in request.POST:
                # show what changes against the version in force, and ask before e-mailing
                max_gap = timedelta(minutes=form.cleaned_data["max_gap_minutes"])
                return render(request, "vmquota/policy_confirm.html", {
                    "form": form, "rules": rules, "current": active_version(),
                    "changes": version_changes(active_version(), [f.as_rule() for f in rules],
                                               max_gap),
                    "effective": effective, "coordinators": coordinator_count(), **_nav(request),
                })  # fmt: skip
            else:
                policy_version_create(
                    actor=request.user, effective_from=effective,
                    announcement=form.cleaned_data["announcement"],
                    max_gap=timedelta(minutes=form.cleaned_data["max_gap_minutes"]),
                    rules=[f.as_rule() for f in rules], publish=True,
                )  # fmt: skip
                messages.success(request, "新版本已發布，並以電子郵件通知各校資訊組長。")
                return redirect("vmquota:policy")
    else:
        form = VersionForm(initial={"effective_from": timezone.localtime().replace(
            second=0, microsecond=0) + timedelta(hours=1), "max_gap_minutes": 5})  # fmt: skip
        rules = RuleFormSet(prefix="rules", initial=_rule_initial())
    return render(request, "vmquota/policy_new.html",
                  {"form": form, "rules": rules, **_nav(request)})  # fmt: skip


@access.staff_required("只有教育局人員可以試算政策影響。")
def whatif(request):
    if request.method == "POST":
        rules = RuleFormSet(request.POST, prefix="rules")
        if rules.is_valid():
            run = services.whatif_run_create(
                actor=request.user, rules=[f.cleaned_data for f in rules]
            )
            return redirect("vmquota:whatif_result", pk=run.pk)
    else:
        rules = RuleFormSet(prefix="rules", initial=_rule_initial())
    return render(request, "vmquota/whatif.html", {"rules": rules, **_nav(request)})


@access.staff_required("只有教育局人員可以檢視政策試算結果。")
def whatif_result(request, pk):
    run = get_object_or_404(WhatIfRun, pk=pk)
    return render(request, "vmquota/whatif_result.html", {"run": run, **_nav(request)})


@access.staff_required("只有教育局人員可以管理豁免。")
def exemptions(request):
    form = ExemptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        exemption_grant(actor=request.user, vm=d["vm"], school=d["school"],
                        starts_at=d["starts_at"], ends_at=d["ends_at"], reason=d["reason"])  # fmt: skip
        messages.success(request, "已新增豁免。")
        return redirect("vmquota:exemptions")
    rows = Exemption.objects.select_related("vm", "school", "granted_by")[:100]
    return render(request, "vmquota/exemptions.html",
                  {"form": form, "rows": rows, **_nav(request)})  # fmt: skip


@access.staff_required("只有教育局人員可以管理收集器權杖。")
def tokens(request):
    form, revoke_form, new_token, status = TokenForm(), RevokeTokenForm(), None, 200
    if request.method == "POST" and "revoke" in request.POST:
        revoke_form = RevokeTokenForm(request.POST)
        if revoke_form.is_valid():
            services.collector_token_revoke(
                token=revoke_form.cleaned_data["revoke"], actor=request.user, request=request
            )
            messages.success(request, "權杖已撤銷。")
            return redirect("vmquota:tokens")
        status = 400
    elif request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            _, new_token = services.collector_token_issue(
                name=form.cleaned_data["name"], hypervisors=list(form.cleaned_data["hypervisors"]),
                school=form.cleaned_data["school"], actor=request.user, request=request,
            )  # fmt: skip
            form = TokenForm()
        else:
            status = 400
    rows = CollectorToken.objects.select_related("school").prefetch_related("hypervisors")[:100]
    return render(request, "vmquota/tokens.html", {
        "form": form, "revoke_form": revoke_form, "new_token": new_token, "rows": rows,
        "api_url": request.build_absolute_uri(reverse("vmquota:api_samples")), **_nav(request),
    }, status=status)  # fmt: skip


@access.staff_required("只有教育局人員可以上傳使用量資料。")
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        try:
            rows = read_csv(form.cleaned_data["file"].read().decode("utf-8-sig"))
        except UnicodeDecodeError:  # a ValueError too: catch it first, its message is English
            form.add_error("file", "檔案必須是 UTF-8 編碼的 CSV（vm,ts,cpu_percent,net_kbps）。")
        except ValueError as exc:
            form.add_error("file", str(exc))
        else:
            result = ingest_rows(rows, from_text=True)
            if result.errors:
                errors = [
                    f"第 {e.index + 2} 行「{e.field}」：{e.message}" for e in result.errors[:50]
                ]
            else:
                messages.success(
                    request, f"已匯入 {result.stored} 筆樣本（{result.duplicates} 筆重複已略過）。"
                )
                return redirect("vmquota:upload")
    return render(request, "vmquota/upload.html",
                  {"form": form, "errors": errors, **_nav(request)})  # fmt: skip
