"""Thin views: load through an access check, call one service, render.

The school a row belongs to comes from the URL and `portal.access`, never from POST; a response's
status is never a form field. Forged fields are therefore simply ignored.
"""

import base64
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal import access, audit, fragments
from portal.jobs import job_url
from portal.models import School

from . import columns, filers, resources, selectors, services
from .forms import (
    AudienceForm,
    RowForm,
    SurveyEditForm,
    SurveyForm,
    TemplateUploadForm,
    blackout_formset,
    column_formset,
    formset_data,
    offer_formset,
    row_formset,
    row_formset_data,
    rule_formset,
)
from .models import ANSWERED, ImportRun, Response, Status, Survey
from .rules import LABELS, format_fee, format_grades, format_range


def _staff_only(request):
    access.require(request, access.is_staff(request.user), "只有教育局人員可以使用這個頁面。")


def _survey_and_school(request, pk, school_pk):
    survey = get_object_or_404(Survey.objects.prefetch_related("columns", "table_rules"), pk=pk)
    school = get_object_or_404(School.objects.select_related("district"), pk=school_pk)
    if survey.is_draft and not access.is_staff(request.user):
        raise Http404("找不到這個調查。")
    if not survey.asks(school):
        raise Http404("這所學校不在本調查的填報對象中。")
    access.require(
        request,
        access.can_view_school(request.user, school),
        "您不能查看其他學校的填報資料。",
        school=school.pk,
    )
    return survey, school


def _xlsx(data, filename):
    """A download named in Chinese (RFC 5987), with a plain fallback for very old clients."""
    response = HttpResponse(data, content_type=resources.XLSX_MIME)
    name = "".join(c for c in filename if c not in '\\/:*?"<>|\r\n\t')
    response["Content-Disposition"] = (
        f"attachment; filename=\"survey.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    return response


@login_required
def survey_list(request):
    access.require(request, access.has_role(request.user), "您的帳號尚未取得角色。")
    visible = (
        Survey.objects.all()
        if access.is_staff(request.user)
        else Survey.objects.filter(is_draft=False)
    )
    surveys = list(visible.order_by("-closes_at"))
    schools = list(access.schools_of(request.user).select_related("district"))
    # the convener schools this person files a district-filed survey for
    convened = filers.convened_schools(request.user) if any(s.by_district for s in surveys) else []
    statuses = {
        (r.survey_id, r.school_id): r.status
        for r in Response.objects.filter(survey__in=surveys, school__in=set(schools + convened))
    }
    # a convener also sees how the district's schools stand (已回覆 x/y)
    convener = access.roles_of(request.user).convener_district_ids and not access.is_staff(
        request.user
    )
    district = (
        [s for s in access.visible_schools(request.user) if s not in schools] if convener else []
    )
    answered = selectors.answered_counts(surveys, district) if district else {}
    now = timezone.now()
    entries = []
    for s in surveys:
        # only the schools asked; a district-filed survey is the convener schools' alone
        asked = [school for school in (convened if s.by_district else schools) if s.asks(school)]
        # a district school's coordinator reads what its convener filed for it
        filed_for_us = (not asked and not access.is_staff(request.user)
                        and any(filers.filed_by_convener(s, school) for school in schools))  # fmt: skip
        entries.append({
            "survey": s,
            "is_open": s.is_open(now),
            "schools": [(school, Status(statuses.get((s.pk, school.pk), Status.NONE)))
                        for school in asked],
            "district_answered": answered.get(s.pk, 0),
            "linked": access.is_staff(request.user) or bool(asked)
            or (bool(district) and not s.by_district)
            or bool(filed_for_us),
            "filed_for_us": filed_for_us,
        })  # fmt: skip
    return render(
        request,
        "signups/list.html",
        {"entries": entries, "is_staff": access.is_staff(request.user),
         "district_total": len(district)},
    )  # fmt: skip


@login_required
def survey_create(request):
    _staff_only(request)
    initial = {}
    source = None
    if request.GET.get("copy"):
        copy = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
        try:
            source_pk = copy.clean(request.GET["copy"])
        except ValidationError:
            raise Http404("找不到要複製的調查。") from None
        source = get_object_or_404(Survey, pk=source_pk)
    if source:
        # the next survey of the same kind: same columns, categories and rule shape
        initial = {
            "title": source.title,
            "instructions": source.instructions,
            "contact": source.contact,
            "school_year": source.school_year + 1,
            "categories": source.categories,
            "window_label": source.window_label,
            "registration_before_activity": source.registration_before_activity,
            "reminder_days_before": source.reminder_days_before,
            "filed_by": source.filed_by,
        }
    form = SurveyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "blackouts_text"}
        survey = services.survey_create(by=request.user, blackouts=form.blackouts, **fields)
        messages.success(request, f"已建立調查：{survey.title}")
        return redirect("signups:grid", survey.pk)
    return render(request, "signups/survey_form.html", {"form": form, "source": source})


@login_required
def survey_from_template(request):
    """Upload the bureau's template, review what it becomes (columns and their types, rules from
    the notes, warnings), then create the survey."""
    from . import bureau_template  # reads the bureau's workbook: only this page needs it

    _staff_only(request)
    form = TemplateUploadForm(request.POST or None, request.FILES or None)
    proposal, problems, kept = None, [], ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["bytes"]
        kept = base64.b64encode(data).decode()
        try:
            proposal = bureau_template.read_template(data)
        except bureau_template.TemplateRefused as exc:
            problems = exc.messages
        if proposal is not None and request.POST.get("action") == "create":
            try:
                survey = services.survey_from_proposal(
                    proposal=proposal, title=form.cleaned_data["title"],
                    opens_at=form.cleaned_data["opens_at"] or timezone.now(),
                    closes_at=form.cleaned_data["closes_at"], by=request.user, request=request,
                )  # fmt: skip
            except services.SignupError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已依範本建立調查（草稿）：{survey.title}。"
                                 "請檢查各欄位後按「公布調查」，學校才看得到。")  # fmt: skip
                return redirect("signups:columns", survey.pk)
    context = {"form": form, "proposal": proposal, "problems": problems, "kept": kept,
               "types": columns.TYPES, "kinds": columns.RULE_KINDS}  # fmt: skip
    return render(request, "signups/from_template.html", context)


@login_required
def survey_columns(request, pk):
    """The bureau reviews each column (type, required, help, options) and publishes a draft."""
    _staff_only(request)
    survey = get_object_or_404(Survey, pk=pk)
    # the rules have their own form and button: saving them leaves the columns as stored
    on_rules = request.POST.get("action") == "rules"
    posted = request.POST if request.method == "POST" and not on_rules else None
    formset = column_formset(survey, data=posted)
    audience = AudienceForm(posted, survey=survey)
    rules_editable = not services.rules_from_survey_form(survey)
    rule_forms = rule_formset(survey, data=request.POST if on_rules else None)
    if on_rules:
        if rule_forms.is_valid():
            try:
                change = services.survey_rules_replace(
                    survey=survey, by=request.user, rules_=rule_forms.rules(), request=request
                )
            except services.SignupError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "已更新規則。" if change else "規則沒有任何變更。")
                return redirect(f"{reverse('signups:columns', args=[survey.pk])}#rules")
        else:
            messages.error(request, "有些規則需要修正，請看標示的說明。")
    elif request.method == "POST":
        try:
            if request.POST.get("action") == "publish":
                services.survey_publish(survey=survey, by=request.user, request=request)
                messages.success(request, f"已公布調查：{survey.title}")
                return redirect("signups:grid", survey.pk)
            # both validated (no short-circuit), so every error shows; then saved all or nothing
            valid = [formset.is_valid(), audience.is_valid()]
            if all(valid):
                pairs = [(f.instance, {**{k: f.cleaned_data[k] for k in
                                          ("type", "required", "help_text")},
                                       "options": f.cleaned_data["options"]})
                         for f in formset.forms]  # fmt: skip
                # the forms wrote onto their instances while validating: compare with the stored
                for column, _ in pairs:
                    column.refresh_from_db()
                audience_of = {"district_ids": audience.cleaned_data["districts"],
                               "levels": audience.cleaned_data["levels"],
                               "filed_by": audience.cleaned_data["filed_by"]}  # fmt: skip
                changed = services.survey_review_save(survey=survey, by=request.user,
                                                      audience=audience_of, columns_=pairs,
                                                      request=request)  # fmt: skip
                messages.success(request, "已更新欄位。" if any(changed) else "沒有任何變更。")
                return redirect("signups:columns", survey.pk)
            messages.error(request, "有些欄位需要修正，請看標示的說明。")
        except services.SignupError as exc:
            messages.error(request, str(exc))
    table, found = survey.table()
    context = {
        "survey": survey,
        "formset": formset,
        "audience": audience,
        "rules_shown": _rules_shown(survey, table, found),
        "rule_forms": rule_forms,
        "rules_editable": rules_editable,
    }
    return render(request, "signups/columns.html", context)


@login_required
def survey_edit(request, pk):
    _staff_only(request)
    survey = get_object_or_404(Survey, pk=pk)
    # the ModelForm writes the typed values onto its instance while validating: give it a copy,
    # so the page heading and the change record keep the survey as it was
    form = SurveyEditForm(request.POST or None, instance=Survey.objects.get(pk=survey.pk))
    blackouts = blackout_formset(
        survey, data=request.POST or None, school_year=form.posted_school_year()
    )
    if request.method == "POST":
        if form.is_valid() and blackouts.is_valid():
            fields = {k: form.cleaned_data[k] for k in services.EDITABLE_FIELDS}
            try:
                change = services.survey_update(
                    survey=survey, by=request.user, fields=fields,
                    blackouts=blackouts.periods(), request=request,
                )  # fmt: skip
            except services.SignupError as exc:
                messages.error(request, str(exc))
                return redirect("signups:edit", survey.pk)
            if change is None:
                messages.info(request, "沒有任何變更。")
            else:
                labels = "、".join(c["label"] for c in change.fields)
                messages.success(request, f"已更新調查：{labels}。")
                breaking = services.offers_breaking_rules(change.survey)
                if breaking:
                    schools = len({o.response.school_id for o, _ in breaking})
                    messages.warning(
                        request,
                        f"已填報的資料中有 {len(breaking)} 列（{schools} 校）不符合修改後的規則；"
                        "這些學校下次儲存或送出時會看到需要修正的欄位。",
                    )
            return redirect("signups:grid", survey.pk)
        messages.error(request, "有些欄位需要修正，請看標示的說明。")
    history = list(survey.changes.select_related("by"))
    return render(
        request,
        "signups/survey_edit.html",
        {"survey": survey, "form": form, "blackouts": blackouts, "history": history},
    )


@login_required
def survey_detail(request, pk):
    survey = get_object_or_404(Survey, pk=pk)
    if access.is_staff(request.user):
        return redirect("signups:grid", survey.pk)
    if survey.is_draft:
        raise Http404("找不到這個調查。")
    if survey.by_district:
        # one answer per district: its convener files it; nobody else has a page here
        mine = filers.district_schools_filed_by(request.user, survey)
        if len(mine) == 1:
            return redirect("signups:file", survey.pk, mine[0].pk)
        if not mine:
            return _filed_for_us(request, survey)
        rows = selectors.schools_status(survey, mine)
        return render(request, "signups/schools.html", {
            "survey": survey, "rows": rows, "is_open": survey.is_open(),
            "answered": sum(1 for r in rows if r.status in ANSWERED)})  # fmt: skip
    schools = list(access.schools_of(request.user))
    if len(schools) == 1:
        return redirect("signups:file", survey.pk, schools[0].pk)
    visible = list(access.visible_schools(request.user).order_by("district__position", "code"))
    access.require(request, bool(visible), "您沒有可以查看的學校。")
    rows = selectors.schools_status(survey, visible)
    answered = sum(1 for r in rows if r.status in ANSWERED)
    return render(
        request,
        "signups/schools.html",
        {"survey": survey, "rows": rows, "answered": answered, "is_open": survey.is_open()},
    )


def _filed_for_us(request, survey):
    """A district school's coordinator reads (only) the rows its convener sent for it."""
    schools = access.schools_of(request.user).select_related("district__convener_school")
    found = [(school, filers.filed_for(survey, school)) for school in schools]
    found = [(school, offers) for school, offers in found if offers is not None]
    if not found:
        raise Http404("本調查由各分區召集學校填報，貴校不需填報。")
    table = survey.table()[0]
    shown = [(school, [_row_display(o, school, table, survey.school_year) for o in offers])
             for school, offers in found]  # fmt: skip
    return render(request, "signups/filed_for_us.html",
                  {"survey": survey, "shown": shown, "headers": _headers(table)})  # fmt: skip


WINTER_HEADERS = ["類型", "承辦學校", "課程名稱", "活動日期", "活動地點", "費用", "報名日期",
                  "參加年級", "人數"]  # fmt: skip


def _headers(table, *, district=False):
    found = WINTER_HEADERS if columns.is_winter_camp(table) else [c.label for c in table]
    return ["分區", *found] if district else found


def _row_display(offer, school, table, school_year):
    """One filed row's cells as the tables show them."""
    if not columns.is_winter_camp(table):
        return [columns.show(c, offer.values.get(c.key), school_year=school_year) for c in table]
    return [
        offer.category,
        school.name,
        offer.course_name,
        format_range(offer.activity_starts_on, offer.activity_ends_on),
        offer.venue,
        format_fee(offer.fee),
        format_range(offer.registration_starts_on, offer.registration_ends_on),
        format_grades(offer.grade_from, offer.grade_to, offer.gender),
        offer.capacity,
    ]


def _rules_shown(survey, table, found):
    """The survey's rules in words, for the filing page."""
    labels = {c.key: c.label for c in table}
    return [columns.rule_words(r, labels) for r in found]


def _saved_message(response):
    if response.has_pending_edits:
        number = response.submissions.order_by("-number").values_list("number", flat=True).first()
        return (f"已儲存修改，尚未送出；教育局看到的仍是第 {number} 版。"
                "修改完成後請按「送出」。")  # fmt: skip
    return "已儲存草稿，尚未送出。"


def _error_summary(formset):
    """「第 N 列，欄位 X：…」 for every error in the table, linking to the field."""
    if formset is None or not formset.is_bound:
        return []
    summary = []
    for number, form in enumerate(formset.forms, start=1):
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for message in errors:
                summary.append({"row": number, "label": LABELS.get(name, label or name),
                                "message": message,
                                "field_id": form[name].auto_id if name in form.fields else ""})  # fmt: skip
    return summary


@login_required
def file(request, pk, school_pk):
    survey, school = _survey_and_school(request, pk, school_pk)
    can_act = filers.can_file(request.user, survey, school)
    if request.method == "POST":
        access.require(request, can_act, "您只能為自己的學校填報。", school=school.pk)
    response = services.response_get(survey=survey, school=school)
    editable = can_act and response.is_editable()
    offers = list(response.offers.all())
    survey_rules = survey.rules()
    table, found_rules = survey.table()
    winter = columns.is_winter_camp(table)
    # a district-filed table's rows may be for any school of the district
    schools = filers.district_schools(survey, school) if editable and not winter else None

    def table_formset(data=None, offers=(), extra=1):
        if winter:
            return offer_formset(survey_rules, data=data, offers=offers, extra=extra)
        return row_formset(survey, data=data, offers=offers, extra=extra, school_name=school.name,
                           schools=schools)  # fmt: skip

    try:
        extra = max(1, min(int(request.GET.get("extra", 1)), 20))
    except ValueError:
        extra = 1

    formset = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if not editable:
            messages.error(request, "本調查已截止，無法再修改；如需更正請洽教育局承辦人重新開放。")
            return redirect("signups:file", survey.pk, school.pk)
        try:
            if action == "decline":
                services.response_decline(response=response, by=request.user, request=request)
                messages.success(request, "已回覆：本校不辦理（無意願）。")
                return redirect("signups:file", survey.pk, school.pk)
            formset = table_formset(data=request.POST, offers=offers)
            if formset.is_valid():
                if action == "submit":
                    version = services.response_submit(
                        response=response, by=request.user, rows=formset.rows(), request=request
                    )
                    messages.success(
                        request, f"已送出（第 {version.number} 版）。截止前仍可修改後重新送出。"
                    )
                    return redirect("signups:file", survey.pk, school.pk)
                response = services.offers_save(
                    response=response, rows=formset.rows(), by=request.user
                )
                messages.success(request, _saved_message(response))
                url = reverse("signups:file", args=[survey.pk, school.pk])
                if action == "add":
                    url += "?extra=2"
                return redirect(url)
            if action in ("save", "add"):
                services.draft_save_unfinished(
                    response=response, typed_rows=formset.typed_rows(), by=request.user
                )
                response.refresh_from_db()
                messages.warning(
                    request,
                    f"已儲存草稿（未完成）：有 {formset.total_error_count()} 個問題，"
                    "修正後才能送出。",
                )
            else:
                messages.error(request, "有些欄位需要修正，請看表格中標示的說明。")
        except services.SignupError as exc:
            messages.error(request, str(exc))
            if formset is None or not formset.is_bound:
                return redirect("signups:file", survey.pk, school.pk)
    if formset is None and editable and response.draft_rows is not None:
        # a kept edit is shown as typed and judged again, so its errors show until fixed
        kept = (formset_data(response.draft_rows, extra=extra) if winter
                else row_formset_data(table, response.draft_rows, extra=extra))  # fmt: skip
        formset = table_formset(data=kept)
    if formset is None and editable:
        formset = table_formset(offers=offers, extra=extra)

    versions = list(response.submissions.select_related("by").order_by("-number"))
    context = {
        "survey": survey,
        "school": school,
        "response": response,
        "status": Status(response.status),
        "badge": selectors.BADGES[response.status],
        "editable": editable,
        "can_act": can_act,
        "formset": formset,
        "rows": [_row_display(o, school, table, survey.school_year) for o in offers],
        "headers": _headers(table),
        "winter": winter,
        "rules_shown": [] if winter else _rules_shown(survey, table, found_rules),
        "error_summary": _error_summary(formset),
        "xlsx_mime": resources.XLSX_MIME,
        "is_staff": access.is_staff(request.user),
        "versions": versions,
        "sent_version": versions[0] if versions and response.status in ANSWERED else None,
        "changes": list(response.changes.select_related("by").order_by("-at", "-id")),
        "imports": list(response.imports.order_by("-created_at", "-id")[:3]) if can_act else [],
        "blackouts": list(survey_rules.blackouts),
        "window": survey_rules.window,
        "district_schools": schools,
        "school_list": RowForm.SCHOOL_LIST,
    }
    return render(request, "signups/file.html", context)


@login_required
@require_POST
def import_view(request, pk, school_pk):
    survey, school = _survey_and_school(request, pk, school_pk)
    access.require(
        request, filers.can_file(request.user, survey, school), "您只能為自己的學校填報。"
    )
    response = services.response_get(survey=survey, school=school)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "請選擇要匯入的 Excel 檔案（.xlsx）。")
        return redirect("signups:file", survey.pk, school.pk)
    try:
        run = services.import_start(
            response=response, upload=upload, by=request.user, request=request
        )
    except resources.ImportRefused as exc:
        audit.record("signups.import_refused", request=request, target=response,
                     problems=len(exc.messages))  # fmt: skip
        return render(
            request,
            "signups/import_refused.html",
            {"survey": survey, "school": school, "problems": exc.messages},
            status=400,
        )
    except services.SignupError as exc:
        messages.error(request, str(exc))
        return redirect("signups:file", survey.pk, school.pk)
    return redirect(job_url(run.job))


@login_required
def import_result(request, pk, school_pk, run_pk):
    survey, school = _survey_and_school(request, pk, school_pk)
    run = get_object_or_404(
        ImportRun.objects.select_related("by", "job"),
        pk=run_pk, response__survey=survey, response__school=school,
    )  # fmt: skip
    return render(
        request,
        "signups/import_result.html",
        {"survey": survey, "school": school, "run": run, "stuck": run.looks_stuck(),
         "job_url": job_url(run.job) if run.job_id else ""},
    )  # fmt: skip


@login_required
def template_download(request, pk, school_pk):
    survey, school = _survey_and_school(request, pk, school_pk)
    return _xlsx(resources.template_xlsx(survey, school), f"{survey.title}（{school.name}）.xlsx")


@login_required
def grid(request, pk):
    _staff_only(request)
    survey = get_object_or_404(Survey, pk=pk)

    def render_body():
        groups = selectors.survey_grid(survey)
        context = {"survey": survey, "groups": groups, "totals": selectors.totals(groups)}
        return render_to_string("signups/_grid_body.html", context)

    body = fragments.fragment(("signups-grid", survey.pk), (selectors.GRID_COUNTER,), render_body)
    no_one = services.unanswered_without_address(survey)
    context = {"survey": survey, "body": body, "is_open": survey.is_open(), "no_one": no_one,
               "can_invite": access.is_staff(request.user)}  # fmt: skip
    return render(request, "signups/grid.html", context)


@login_required
def rows(request, pk):
    _staff_only(request)
    survey = get_object_or_404(Survey, pk=pk)
    offers = resources.consolidated_offers(survey)
    table = survey.table()[0]
    rows = [_row_display(o, o.response.school, table, survey.school_year) for o in offers]
    if survey.by_district:
        rows = [
            [o.response.school.district.name, *row] for o, row in zip(offers, rows, strict=True)
        ]
    return render(request, "signups/rows.html",
                  {"survey": survey, "rows": rows, "headers": _headers(table, district=survey.by_district)})  # fmt: skip


@login_required
def export(request, pk):
    _staff_only(request)
    survey = get_object_or_404(Survey.objects.prefetch_related("columns", "table_rules"), pk=pk)
    audit.record("signups.exported", request=request, target=survey)
    return _xlsx(resources.export_xlsx(survey), f"{survey.title}.xlsx")


@login_required
@require_POST
def remind(request, pk):
    _staff_only(request)
    survey = get_object_or_404(Survey, pk=pk)
    outcome = services.reminders_send(
        survey=survey, kind=services.manual_reminder_kind(), by=request.user
    )
    audit.record("signups.reminded", request=request, target=survey, schools=outcome.sent,
                 no_one=[s.name for s in outcome.no_one])  # fmt: skip
    if outcome.sent:
        messages.success(request, f"已寄出提醒給 {outcome.sent} 所尚未回覆的學校。")
    if outcome.no_one:
        names = "、".join(s.name for s in outcome.no_one)
        messages.warning(
            request,
            f"{len(outcome.no_one)} 所學校沒有可收信的資訊組長，未寄出：{names}。"
            "請見下方「沒有人可收提醒的學校」。",
        )
    if not outcome.sent and not outcome.no_one:
        if outcome.already:
            messages.info(request, f"今天已提醒過 {outcome.already} 所學校，不重複寄送。")
        else:
            messages.info(request, "所有學校都已回覆，沒有需要提醒的學校。")
    return redirect("signups:grid", survey.pk)


@login_required
@require_POST
def return_view(request, pk, school_pk):
    _staff_only(request)
    survey, school = _survey_and_school(request, pk, school_pk)
    response = services.response_get(survey=survey, school=school)
    try:
        services.response_return(
            response=response, by=request.user, comment=request.POST.get("comment", ""),
            request=request,
        )  # fmt: skip
    except services.SignupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已退回 {school.name} 的填報，並以電子郵件通知學校。")
    return redirect("signups:file", survey.pk, school.pk)


@login_required
@require_POST
def reopen(request, pk, school_pk):
    _staff_only(request)
    survey, school = _survey_and_school(request, pk, school_pk)
    response = services.response_get(survey=survey, school=school)
    services.response_reopen(response=response, by=request.user, request=request)
    messages.success(request, f"已為 {school.name} 重新開放填報 7 天。")
    return redirect("signups:file", survey.pk, school.pk)
