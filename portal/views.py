from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Prefetch
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import access
from .adapters import invitation_forget, invitation_refused, invitation_remember
from .health import failing_checks
from .models import AuditEvent, District, Membership, Role, School
from .navigation import home_blocks
from .services import (
    InvitationError,
    heartbeat_age_s,
    invitation_accept,
    invitation_create,
    invitation_usable,
)
from .todo import todos_for


def home(request):
    if not request.user.is_authenticated:
        return render(request, "portal/welcome.html")
    if not access.has_role(request.user):
        return render(request, "portal/pending.html", status=200)
    return render(
        request,
        "portal/home.html",
        {
            "todos": todos_for(request),
            "blocks": home_blocks(request),
            "today": timezone.localdate(),
        },
    )


def _check_broker():
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:  # noqa: BLE001 – any failure means the broker is unusable
        return f"{type(exc).__name__}: {exc}"[:200]


@never_cache
def healthz(request):
    """{db, broker, worker_heartbeat_age_s, and what a registered check finds}: 200 when all are
    fine, 503 naming what is not."""
    body, failing = {}, []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["db"] = "ok"
    except Exception as exc:  # noqa: BLE001
        body["db"] = f"error: {type(exc).__name__}"
        failing.append("db")
    broker_error = _check_broker()
    body["broker"] = "ok" if broker_error is None else f"error: {broker_error}"
    if broker_error:
        failing.append("broker")
    age = heartbeat_age_s() if "db" not in failing else None
    body["worker_heartbeat_age_s"] = age
    if age is None or age > settings.HEARTBEAT_MAX_AGE_S:
        failing.append("worker")
    if "db" not in failing:  # the apps' checks (portal/health.py), e.g. vmquota's evaluation
        for name, detail in failing_checks():
            body[name] = detail
            failing.append(name)
    body["status"] = "ok" if not failing else "failing"
    body["failing"] = failing
    return JsonResponse(body, status=200 if not failing else 503)


def invitation_accept_view(request, token):
    """An invitation's link: a stranger is sent to sign up (open for this invitation only); a
    logged-in person accepts it if their account has the invited address. Every other case is a
    page saying why and what to do."""
    try:
        invitation = invitation_usable(token)
    except InvitationError as exc:
        return invitation_refused(request, exc)
    if not request.user.is_authenticated:
        invitation_remember(request, invitation)
        messages.info(request, "請建立帳號以接受邀請；已有帳號的話，請用註冊頁的「登入」連結。")
        return redirect("account_signup")
    try:
        invitation = invitation_accept(token=token, user=request.user, request=request)
    except InvitationError as exc:
        return invitation_refused(request, exc)
    invitation_forget(request)
    messages.success(request, f"已加入：{invitation.school or invitation.district or '教育局'}。")
    return redirect("home")


class InvitationForm(forms.Form):
    email = forms.EmailField(label="電子郵件")
    school = forms.ModelChoiceField(
        label="學校", queryset=School.objects.select_related("district"), required=True
    )


class ApproveForm(forms.Form):
    user_id = forms.IntegerField(widget=forms.HiddenInput)
    school = forms.ModelChoiceField(label="學校", queryset=School.objects.all())


@require_http_methods(["GET", "POST"])
@access.staff_required("只有教育局人員可以邀請與核准人員。")
def people(request):
    """Bureau staff: invite coordinators, approve people who arrived through OpenID Connect."""
    invite_form = InvitationForm(request.POST if request.POST.get("action") == "invite" else None)
    approve_form = ApproveForm(request.POST if request.POST.get("action") == "approve" else None)
    if request.method == "POST":
        if request.POST.get("action") == "invite" and invite_form.is_valid():
            invitation_create(
                email=invite_form.cleaned_data["email"],
                school=invite_form.cleaned_data["school"],
                invited_by=request.user,
                request=request,
            )
            messages.success(request, f"已寄出邀請給 {invite_form.cleaned_data['email']}。")
            return redirect("people")
        if request.POST.get("action") == "approve" and approve_form.is_valid():
            user = get_user_model().objects.filter(pk=approve_form.cleaned_data["user_id"]).first()
            if user is not None:
                Membership.objects.get_or_create(
                    user=user, role=Role.COORDINATOR, school=approve_form.cleaned_data["school"]
                )
                messages.success(request, f"已核准 {user.display_name}。")
            return redirect("people")
    districts = District.objects.prefetch_related(
        Prefetch(
            "schools",
            queryset=School.objects.order_by("code").prefetch_related(
                Prefetch(
                    "membership_set",
                    queryset=Membership.objects.filter(role=Role.COORDINATOR).select_related(
                        "user"
                    ),
                    to_attr="coordinators",
                )
            ),
        )
    )
    waiting = get_user_model().objects.filter(
        memberships__isnull=True, is_superuser=False, is_active=True
    )
    return render(
        request,
        "portal/people.html",
        {
            "districts": districts,
            "invite_form": invite_form,
            "approve_form": approve_form,
            "waiting": waiting,
            "schools": School.objects.order_by("code"),
        },
    )


@access.staff_required("只有教育局人員可以檢視稽核紀錄。")
def audit_log(request):
    """Bureau staff read the audit log with filters; nobody edits it from the application."""
    from django.core.paginator import Paginator

    from . import audit
    from .filters import AuditEventFilter

    events = AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())
    # a filter it cannot read lists nothing (not everything, as if the filter were not there)
    refused = events.is_bound and not events.is_valid()
    found = AuditEvent.objects.none() if refused else events.qs
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    context = {"filter": events, "page": page, "refused": refused,
               "entries": audit.entries(page.object_list)}  # fmt: skip
    return render(request, "portal/audit_log.html", context)


def _job_for(request, pk):
    from django.shortcuts import get_object_or_404

    from .models import BackgroundJob

    job = get_object_or_404(BackgroundJob, pk=pk)
    access.require(request, job.created_by_id == request.user.pk or access.is_staff(request.user))
    return job


@login_required
def job_detail(request, pk):
    return render(request, "portal/job.html", {"job": _job_for(request, pk)})


@login_required
@require_http_methods(["POST"])
def job_retry(request, pk):
    """重試: send a job again that failed before any worker took it (the broker was away)."""
    from . import audit
    from .jobs import job_retry as retry

    job = _job_for(request, pk)
    if retry(job=job):
        audit.record("portal.job_retried", request=request, target=job)
    else:
        messages.error(request, "這項工作已經開始或完成，不能重試。")
    return redirect("job_detail", pk=job.pk)


@login_required
def job_status(request, pk):
    job = _job_for(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "retryable": job.retryable,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "message": job.message,
            "error": job.error,
            "result_url": job.result_url,
            "go": job.goes_to_result,
            "back_url": job.back_url,
        }
    )


def health_page_ok(request):
    """A trivial view: the ceiling for load benchmarks (no database, no template)."""
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


PEOPLE_COUNTER = "portal:people"


def roles_block(request):
    memberships = request.user.memberships.select_related(
        "school__district", "district", "division"
    )
    waiting = None
    if access.is_staff(request.user):
        waiting = (
            get_user_model()
            .objects.filter(memberships__isnull=True, is_superuser=False, is_active=True)
            .count()
        )
    return "partials/home_roles.html", {"memberships": memberships, "waiting_count": waiting}


def _upload_limit_text():
    return f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024:g} MB"


def bad_request(request, exception=None):
    """handler400: a page (JSON under /api/) that says what was wrong with the request, in
    Chinese. Django's own refusals (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a
    broken multipart body) get a message of ours; `InvalidInput` carries its own."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    from .badinput import InvalidInput

    if isinstance(exception, InvalidInput):
        message = str(exception)
    elif isinstance(exception, RequestDataTooBig):
        message = (
            f"送出的內容太大：一次最多可送出 {_upload_limit_text()}（不含上傳的檔案）。"
            "一個月的會議紀錄全文約數十 KB，請確認貼上的內容是否正確；"
            "若內容確實很長，請改為上傳 .docx 或 .txt 檔案。"
        )
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message = "送出的欄位或檔案數量超過上限，請分批送出。"
    else:
        message = "無法處理這個要求：送出的資料格式不正確。請回到上一頁重新操作。"
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)
