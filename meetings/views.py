"""Pages of the minutes. Thin: load through an access check, call one service, render."""

import secrets
from datetime import date, time

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from portal import access, fragments, rocdate
from portal.badinput import query_params
from portal.jobs import job_start, job_url
from portal.models import BackgroundJob, School

from . import attachments as attachment_types
from . import feeds, hooks, minutes_cache, rendering, selectors, services
from .forms import (
    AttachmentFileForm,
    AttendanceForm,
    HeaderForm,
    ImportForm,
    ImportHeaderForm,
    ImportMoveForm,
    ItemAddForm,
    ItemTextForm,
    LinkForm,
    MotionForm,
    NewMeetingForm,
    SearchForm,
    YearForm,
)
from .models import Attachment, FeedKey, Meeting, Motion, ReportItem

member_required = access.role_required
staff_required = access.staff_required("只有教育局人員可以撰寫、匯入或發布會議紀錄。")


def _meeting_for(request, pk, *, manage=False):
    meeting = get_object_or_404(Meeting.objects.select_related("series"), pk=pk)
    if manage:
        access.require(
            request, selectors.can_manage(request.user), "只有教育局人員可以修改會議紀錄。"
        )
    else:
        access.require(request, selectors.can_view(request.user, meeting), "這份會議紀錄尚未發布。")
    return meeting


# --- reading -----------------------------------------------------------------------------------


@member_required
def meeting_list(request):
    can_manage = selectors.can_manage(request.user)
    asked = query_params(request, YearForm)["year"]

    def render_body():
        years = selectors.years(request.user)
        this_year = years[0] if years else rocdate.roc_year(timezone.localdate())
        year = asked or this_year
        meetings = list(selectors.meetings_of_year(request.user, year))
        context = {"years": years, "year": year, "meetings": meetings, "can_manage": can_manage}
        return render_to_string("meetings/_list_body.html", context)

    # Drafts show to staff only; a meeting saved moves MEETINGS_COUNTER (apps.ready).
    body = fragments.fragment(
        ("meetings-list", access.is_staff(request.user), can_manage, request.GET.get("year", ""),
         timezone.localdate().isoformat()),
        (selectors.MEETINGS_COUNTER,),
        render_body,
    )  # fmt: skip
    return render(request, "meetings/list.html", {"body": body, "can_manage": can_manage})


@member_required
def meeting_detail(request, pk):
    meeting = _meeting_for(request, pk)
    manage = selectors.can_manage(request.user)
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "minutes": minutes_cache.rendered_minutes(meeting),
            "can_manage": manage,
            # 出席人員：詳簽到表 – the sheet, when the meeting kept one in the portal
            "has_sign_in": meeting.sign_ins.exists(),
        },
    )


def _filename(meeting, ext):
    return f"{rocdate.roc_year(meeting.held_on)}年{meeting.held_on.month}月會議紀錄.{ext}"


@member_required
def meeting_text(request, pk):
    meeting = _meeting_for(request, pk)
    body = rendering.as_text(selectors.meeting_document(meeting))
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, _filename(meeting, "txt"))
    return response


@member_required
def meeting_docx(request, pk):
    meeting = _meeting_for(request, pk)
    body = rendering.as_docx(selectors.meeting_document(meeting))
    response = HttpResponse(
        body,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = content_disposition_header(True, _filename(meeting, "docx"))
    return response


@member_required
def search(request):
    form = SearchForm(request.GET or None)
    q = selectors.clean_query(request.GET.get("q"))
    too_short = bool(q) and len(q.replace(" ", "")) < selectors.SEARCH_MIN_CHARS
    results = None
    if q and not too_short:  # published minutes only: one answer per query, for everyone
        results = fragments.fragment(
            ("meetings-search", q),
            (selectors.SEARCH_COUNTER,),
            lambda: render_to_string(
                "meetings/_search_results.html",
                {"q": q, "hits": selectors.search(q), "limit": selectors.SEARCH_LIMIT},
            ),
            timeout=60 * 60,
        )
    return render(
        request,
        "meetings/search.html",
        {"form": form, "q": q, "results": results, "too_short": too_short},
    )


# --- subscribing -------------------------------------------------------------------------------


@member_required
def subscribe(request):
    """The person's own feed addresses, on a page of their own: the minutes list, opened by
    everyone after each meeting, no longer reads (or shows) the key."""
    key = _feed_key(request.user)
    return render(
        request,
        "meetings/subscribe.html",
        {
            "atom_url": request.build_absolute_uri(reverse("meetings:feed", args=[key])),
            "calendar_url": request.build_absolute_uri(reverse("meetings:calendar", args=[key])),
        },
    )


def _feed_key(user):
    row, _ = FeedKey.objects.get_or_create(user=user, defaults={"key": secrets.token_urlsafe(24)})
    return row.key


def _feed_user(key):
    row = FeedKey.objects.select_related("user").filter(key=key).first()
    if row is None or not row.user.is_active or not access.has_role(row.user):
        raise Http404("訂閱連結無效")
    return row.user


def feed_atom(request, key):
    _feed_user(key)
    return feeds.PublishedMinutesFeed()(request)


def feed_ics(request, key):
    user = _feed_user(key)
    body = feeds.upcoming_calendar(request, user)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


# --- writing -----------------------------------------------------------------------------------


@staff_required
def meeting_import(request):
    """Paste or upload → preview (a background job: what was understood, and what was not) →
    save as draft (another job). The request only reads the form; parsing and saving run in
    the worker while the person watches the job page's progress bar."""
    from . import tasks  # the jobs' tasks (Celery): only these pages start them

    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = job_start(
            kind=IMPORT_PREVIEW, title="匯入會議紀錄：讀取與預覽", user=request.user,
            task=tasks.import_preview, params=_import_params(form.cleaned_data),
            back_url=reverse("meetings:import"),
        )  # fmt: skip
        return redirect(job_url(job))
    return render(request, "meetings/import.html", {"form": form})


def _import_params(data):
    if data.get("pdf"):
        return {"text": "", "pdf": data["pdf"]}  # read page by page in the job
    return {"text": data["text"]}


IMPORT_PREVIEW = "meetings.import_preview"
IMPORT_SAVE = "meetings.import_save"


def _preview_job(request, job_pk):
    """A finished preview job this person may use (its creator, or other bureau staff)."""
    job = get_object_or_404(BackgroundJob, pk=job_pk, kind=IMPORT_PREVIEW)
    access.require(
        request,
        job.created_by_id == request.user.pk or access.is_staff(request.user),
        "這不是您的匯入工作。",
    )
    return job


def _preview_context(job, header_form=None):
    result = dict(job.result.get("result") or {})
    if result:
        held_on, start = result.get("held_on"), result.get("start_time")
        result["held_on"] = date.fromisoformat(held_on) if held_on else None
        result["start_time"] = time.fromisoformat(start) if start else None
    return {"job": job, "result": result, "problems": job.result.get("problems") or [],
            "ok": job.result.get("ok", False),
            "header_form": header_form or (ImportHeaderForm.of(result) if result else None),
            "fixed": bool(job.params.get("header")), "moved": len(job.params.get("moves") or [])}  # fmt: skip


@staff_required
def import_preview(request, job_pk):
    job = _preview_job(request, job_pk)
    if job.status != job.Status.DONE:
        return redirect(job_url(job))  # still running (or failed): the job page says which
    return render(request, "meetings/import.html", {**_preview_context(job), "form": ImportForm()})


@require_POST
@staff_required
def import_fix(request, job_pk):
    """The bureau corrects header fields on the preview: the same text is read again with the
    corrections (a new preview job), so what is saved is what the preview showed."""
    from . import tasks

    preview = _preview_job(request, job_pk)
    if preview.status != preview.Status.DONE or not preview.result.get("result"):
        return redirect("meetings:import_preview", job_pk=preview.pk)
    form = ImportHeaderForm(request.POST)
    if not form.is_valid():
        return render(
            request, "meetings/import.html",
            {**_preview_context(preview, header_form=form), "form": ImportForm()}, status=400,
        )  # fmt: skip
    job = job_start(
        kind=IMPORT_PREVIEW, title="匯入會議紀錄：依修正重新預覽", user=request.user,
        task=tasks.import_preview,
        params={"text": preview.params["text"], "header": form.header(),
                "moves": preview.params.get("moves") or []},
    )  # fmt: skip
    return redirect(job_url(job))


@require_POST
@staff_required
def import_move(request, job_pk):
    """The bureau moves a paragraph that went to the wrong section or item: the same text is
    read again with this move after the earlier ones (a new preview job), like a header fix."""
    from . import tasks

    preview = _preview_job(request, job_pk)
    result = preview.result.get("result") if preview.status == preview.Status.DONE else None
    if not result:
        return redirect("meetings:import_preview", job_pk=preview.pk)
    moves = preview.params.get("moves") or []
    form = ImportMoveForm(request.POST, result=result, moves=moves)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("meetings:import_preview", job_pk=preview.pk)
    moves = [*moves, form.move()]
    job = job_start(
        kind=IMPORT_PREVIEW, title="匯入會議紀錄：移動段落後重新預覽", user=request.user,
        task=tasks.import_preview,
        params={"text": preview.params["text"], "header": preview.params.get("header") or {},
                "moves": moves},
    )  # fmt: skip
    return redirect(job_url(job))


@require_POST
@staff_required
def import_save(request, job_pk):
    from . import tasks

    preview = _preview_job(request, job_pk)
    if preview.status != preview.Status.DONE or not preview.result.get("ok"):
        messages.error(request, "這份預覽有問題，無法儲存；請修正後重新預覽。")
        return redirect("meetings:import_preview", job_pk=preview.pk)
    title = (preview.result.get("result") or {}).get("title") or "會議紀錄"
    job = job_start(
        kind=IMPORT_SAVE, title=f"匯入會議紀錄：儲存「{title}」", user=request.user,
        task=tasks.import_save,
        params={"text": preview.params["text"], "header": preview.params.get("header") or {},
                "moves": preview.params.get("moves") or [], "preview_job": preview.pk},
        back_url=reverse("meetings:import_preview", args=[preview.pk]),
    )  # fmt: skip
    return redirect(job_url(job))


@staff_required
def meeting_new(request):
    form = NewMeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = form.changes()
        meeting = services.meeting_create(
            user=request.user, title=fields.pop("title"), held_on=fields.pop("held_on"), **fields
        )
        messages.success(request, "已建立草稿。")
        return redirect("meetings:edit", pk=meeting.pk)
    return render(request, "meetings/new.html", {"form": form})


def _item_choices(doc):
    section = next(s for s in doc.sections if s.key == "reports")
    return [
        (entry.item_pk, f"{entry.label}{entry.text[:20]}")
        for entry in rendering.walk_entries(section.entries)
        if entry.item_pk
    ]


@staff_required
def meeting_edit(request, pk):
    meeting = _meeting_for(request, pk, manage=True)
    form = HeaderForm(request.POST or None, instance=Meeting.objects.get(pk=meeting.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_update(
                meeting=meeting, user=request.user, changes=form.changes(),
                reason=form.cleaned_data.get("reason", ""),
            )  # fmt: skip
        except services.MeetingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已儲存會議資訊。")
            return redirect("meetings:edit", pk=meeting.pk)
    doc = selectors.meeting_document(meeting)
    motions = {m.pk: m for m in Motion.objects.filter(meeting=meeting)}
    motion_sections = []
    for section in doc.sections:
        if section.key in ("proposals", "extempore"):
            rows = []
            for entry in section.motions:
                motion = motions[int(entry.anchor.split("-")[1])]
                mform = MotionForm(prefix=f"m{motion.pk}", instance=motion)
                del mform.fields["kind"]
                if not meeting.is_published:
                    del mform.fields["reason"]
                else:
                    mform.fields["reason"].required = True
                rows.append((entry, motion, mform))
            motion_sections.append((section, rows))
    motion_form = MotionForm(prefix="motion")
    del motion_form.fields["reason"]
    places = _places(doc)
    published = meeting.is_published
    return render(
        request,
        "meetings/edit.html",
        {
            "meeting": meeting,
            "doc": doc,
            "form": form,
            "add_form": ItemAddForm(parents=_item_choices(doc), prefix="add"),
            "motion_form": motion_form,
            "motion_sections": motion_sections,
            "item_actions": [
                ("up", "上移"),
                ("down", "下移"),
                ("indent", "降一層"),
                ("outdent", "升一層"),
                ("delete", "刪除"),
            ],
            "motion_actions": [("up", "上移"), ("down", "下移"), ("delete", "刪除")],
            "attendance_form": AttendanceForm(published=published, prefix="att"),
            "attendance_groups": _attendance_groups(meeting),
            "file_form": AttachmentFileForm(places=places, published=published, prefix="file"),
            "link_forms": [
                (k, LinkForm(link_kind=k, places=places, published=published, prefix=k.name))
                for k in hooks.link_kinds()
            ],
            "attachment_rows": _attachment_rows(doc),
        },
    )


def _attendance_groups(meeting):
    """[(district, [(school, ticked), …]), …] in the districts' order, for the fieldsets."""
    ticked = set(meeting.attendees.values_list("pk", flat=True))
    groups = {}
    for school in School.objects.select_related("district").order_by(
        "district__position", "district_id", "code"
    ):
        groups.setdefault(school.district, []).append((school, school.pk in ticked))
    return list(groups.items())


def _places(doc):
    """Where an attachment can go: ("item:12", "捌、業務報告 (五)…"), ("motion:3", …)."""
    places = []
    for section in doc.sections:
        if section.key == "reports":
            places += [
                (f"item:{entry.item_pk}", f"{section.heading} {entry.label}{entry.text[:24]}")
                for entry in rendering.walk_entries(section.entries)
                if entry.item_pk
            ]
        for motion in section.motions:
            pk = motion.anchor.split("-")[1]
            places.append(
                (f"motion:{pk}", f"{section.heading} {motion.label}：{motion.subject[:24]}")
            )
    return places


def _attachment_rows(doc):
    """Every attachment with where it is, in page order: [(ref, where), …]."""
    rows = []
    for section in doc.sections:
        for entry in rendering.walk_entries(section.entries):
            rows += [(a, f"{section.heading} {entry.label}") for a in entry.attachments]
        for motion in section.motions:
            rows += [(a, f"{section.heading} {motion.label}") for a in motion.attachments]
    rows += [(a, "整份會議紀錄") for a in doc.attachments]
    return rows


def _place(meeting, value):
    kind, _, pk = (value or "").partition(":")
    if kind == "item":
        return get_object_or_404(ReportItem, pk=pk, meeting=meeting), None
    if kind == "motion":
        return None, get_object_or_404(Motion, pk=pk, meeting=meeting)
    return None, None


def _form_errors(form):
    """The form's errors as one message line: 「檔案：…；附在：…」."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts += [f"{label}：{error}" if label else error for error in errors]
    return "；".join(parts)


@require_POST
@staff_required
def attendance_set(request, pk):
    meeting = _meeting_for(request, pk, manage=True)
    form = AttendanceForm(request.POST, published=meeting.is_published, prefix="att")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(meeting, "attendance")
    return _run(
        request, meeting,
        lambda: services.meeting_attendance_set(
            meeting=meeting, user=request.user, schools=form.cleaned_data["attendees"],
            reason=form.cleaned_data.get("reason", ""),
        ),
        "已儲存出席學校。", "attendance",
    )  # fmt: skip


def _attach(request, pk, form_class, source, success, **form_kwargs):
    """Add an attachment (a file or a survey link) where the form says: the two views differ
    only in their form and in which field holds the thing attached."""
    meeting = _meeting_for(request, pk, manage=True)
    doc = selectors.meeting_document(meeting)
    form = form_class(
        request.POST, places=_places(doc), published=meeting.is_published, **form_kwargs
    )
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(meeting, "attachments")
    report_item, motion = _place(meeting, form.cleaned_data["place"])
    return _run(
        request, meeting,
        lambda: services.attachment_add(
            meeting=meeting, user=request.user, title=form.cleaned_data["title"],
            report_item=report_item, motion=motion, reason=form.cleaned_data.get("reason", ""),
            **{source[1]: form.cleaned_data[source[0]]},  # (form field, service argument)
        ),
        success, "attachments",
    )  # fmt: skip


@require_POST
@staff_required
def attachment_add(request, pk):
    return _attach(
        request, pk, AttachmentFileForm, ("file", "upload"), "已加入附件。",
        files=request.FILES, prefix="file",
    )  # fmt: skip


@require_POST
@staff_required
def attachment_link(request, pk):
    """Link a row of a registered hooks.LinkKind (a survey); the form says which kind."""
    kind = hooks.link_kind(request.POST.get("kind", ""))
    if kind is None:
        meeting = _meeting_for(request, pk, manage=True)
        messages.error(request, "不明的連結種類，請重新整理頁面後再試。")
        return _back(meeting, "attachments")
    return _attach(
        request, pk, LinkForm, (kind.name, "linked"), f"已連結{kind.label}。",
        prefix=kind.name, link_kind=kind,
    )  # fmt: skip


@require_POST
@staff_required
def attachment_delete(request, pk, attachment_pk):
    meeting = _meeting_for(request, pk, manage=True)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, meeting=meeting)
    return _run(
        request, meeting,
        lambda: services.attachment_delete(
            attachment=attachment, user=request.user, reason=request.POST.get("reason", "")
        ),
        "已移除附件。", "attachments",
    )  # fmt: skip


@member_required
def attachment_download(request, pk, attachment_pk):
    """The file, to people who may read the meeting (a draft's files only to bureau staff):
    never through a public media URL."""
    meeting = _meeting_for(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, meeting=meeting)
    if not attachment.file:
        raise Http404("這個附件不是檔案")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("檔案不存在") from None
    kind = attachment_types.kind_of(attachment.content_type)
    response = FileResponse(
        handle,
        as_attachment=not (kind and kind.inline),
        filename=attachment.original_name or f"attachment{kind.extension if kind else ''}",
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _back(meeting, anchor=""):
    return redirect(reverse("meetings:edit", args=[meeting.pk]) + (f"#{anchor}" if anchor else ""))


def _run(request, meeting, call, success, anchor=""):
    try:
        call()
    except services.MeetingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return _back(meeting, anchor)


@require_POST
@staff_required
def item_add(request, pk):
    meeting = _meeting_for(request, pk, manage=True)
    doc = selectors.meeting_document(meeting)
    form = ItemAddForm(request.POST, parents=_item_choices(doc), prefix="add")
    if not form.is_valid():
        messages.error(request, "請填寫項目內容並選擇組別。")
        return _back(meeting, "add-item")
    parent = None
    if form.cleaned_data["parent"]:
        parent = get_object_or_404(ReportItem, pk=form.cleaned_data["parent"], meeting=meeting)
    return _run(
        request, meeting,
        lambda: services.report_item_add(
            meeting=meeting, user=request.user, division=form.cleaned_data["division"],
            text=form.cleaned_data["text"], parent=parent,
        ),
        "已新增項目。", "add-item",
    )  # fmt: skip


@require_POST
@staff_required
def item_update(request, pk, item_pk):
    meeting = _meeting_for(request, pk, manage=True)
    item = get_object_or_404(ReportItem, pk=item_pk, meeting=meeting)
    form = ItemTextForm(request.POST)
    if not form.is_valid():
        messages.error(request, "項目內容不可空白。")
        return _back(meeting, f"edit-item-{item.pk}")
    return _run(
        request, meeting,
        lambda: services.report_item_update(
            item=item, user=request.user, text=form.cleaned_data["text"],
            reason=form.cleaned_data["reason"],
        ),
        "已儲存項目。", f"edit-item-{item.pk}",
    )  # fmt: skip


ITEM_ACTIONS = {
    "up": "已上移。",
    "down": "已下移。",
    "indent": "已降一層。",
    "outdent": "已升一層。",
}


@require_POST
@staff_required
def item_action(request, pk, item_pk, action):
    meeting = _meeting_for(request, pk, manage=True)
    item = get_object_or_404(ReportItem, pk=item_pk, meeting=meeting)
    if action == "delete":
        return _run(
            request, meeting, lambda: services.report_item_delete(item=item, user=request.user),
            "已刪除項目。", "sec-reports",
        )  # fmt: skip
    if action not in ITEM_ACTIONS:
        raise Http404
    return _run(
        request, meeting,
        lambda: services.report_item_move(item=item, user=request.user, direction=action),
        ITEM_ACTIONS[action], f"edit-item-{item.pk}",
    )  # fmt: skip


@require_POST
@staff_required
def motion_add(request, pk):
    meeting = _meeting_for(request, pk, manage=True)
    form = MotionForm(request.POST, prefix="motion")
    if not form.is_valid():
        messages.error(request, "請填寫類別與案由。")
        return _back(meeting, "add-motion")
    data = form.cleaned_data
    return _run(
        request, meeting,
        lambda: services.motion_add(
            meeting=meeting, user=request.user, kind=data["kind"], subject=data["subject"],
            explanation=data["explanation"], resolution=data["resolution"],
            proposer=data["proposer"],
        ),
        "已新增提案。", "add-motion",
    )  # fmt: skip


@require_POST
@staff_required
def motion_update(request, pk, motion_pk):
    meeting = _meeting_for(request, pk, manage=True)
    motion = get_object_or_404(Motion, pk=motion_pk, meeting=meeting)
    form = MotionForm(request.POST, prefix=f"m{motion.pk}", instance=Motion(kind=motion.kind))
    del form.fields["kind"]
    if not form.is_valid():
        messages.error(request, "案由不可空白。")
        return _back(meeting, f"edit-motion-{motion.pk}")
    changes = {
        k: form.cleaned_data[k] for k in ("subject", "explanation", "resolution", "proposer")
    }
    return _run(
        request, meeting,
        lambda: services.motion_update(
            motion=motion, user=request.user, changes=changes, reason=form.cleaned_data["reason"]
        ),
        "已儲存提案。", f"edit-motion-{motion.pk}",
    )  # fmt: skip


@require_POST
@staff_required
def motion_action(request, pk, motion_pk, action):
    meeting = _meeting_for(request, pk, manage=True)
    motion = get_object_or_404(Motion, pk=motion_pk, meeting=meeting)
    if action == "delete":
        call = lambda: services.motion_delete(motion=motion, user=request.user)  # noqa: E731
        return _run(request, meeting, call, "已刪除提案。", "sec-extempore")
    if action not in ("up", "down"):
        raise Http404
    call = lambda: services.motion_move(motion=motion, user=request.user, direction=action)  # noqa: E731
    return _run(request, meeting, call, ITEM_ACTIONS[action], f"edit-motion-{motion.pk}")


@require_POST
@staff_required
def meeting_publish(request, pk):
    meeting = _meeting_for(request, pk, manage=True)
    try:
        meeting = services.meeting_publish(meeting=meeting, user=request.user)
    except services.MeetingError as exc:
        messages.error(request, str(exc))
        return redirect("meetings:edit", pk=meeting.pk)
    messages.success(request, "已發布，將以電子郵件通知訂閱的資訊組長。")
    return redirect(meeting.get_absolute_url())
