"""Pages for putting the network into the portal: the school list, bulk invitations, the mail
test. Bureau staff only; each view checks access, calls one service and renders."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import access
from .models import District, Invitation, School
from .operations import mail_test_send
from .organisation import ImportRefused, invitations_send, schools_import
from .services import InvitationError, invitation_resend, invitation_revoke


class SchoolListForm(forms.Form):
    file = forms.FileField(
        label="學校名冊（.xlsx 或 .csv）",
        help_text="欄位：學校代碼、校名、學制（國小／國中）、分區、電子郵件網域、召集學校（是／留白）。"
        "依學校代碼新增或更新，不會重複，也不會刪除檔案中沒有的學校。",
    )
    dry_run = forms.BooleanField(label="只試算，不儲存", required=False)


class PeopleListForm(forms.Form):
    file = forms.FileField(
        label="邀請名單（.xlsx 或 .csv）",
        help_text="欄位：電子郵件，以及「學校代碼」（資訊組長）、「分區」（分區代表）"
        "或「組別」（教育局人員）其中一欄。已有等待中邀請的人不會重寄。",
    )


def _upload(form):
    upload = form.cleaned_data["file"]
    return upload.name, upload.read()


@require_http_methods(["GET", "POST"])
@access.staff_required("只有教育局人員可以匯入學校名冊。")
def schools_import_view(request):
    form = SchoolListForm(request.POST or None, request.FILES or None)
    errors, result = [], None
    if request.method == "POST" and form.is_valid():
        name, data = _upload(form)
        try:
            result = schools_import(
                name=name, data=data, actor=request.user, request=request,
                dry_run=form.cleaned_data["dry_run"],
            )  # fmt: skip
        except ImportRefused as exc:
            errors = exc.errors
        else:
            if not result.dry_run:
                messages.success(request, result.summary())
                return redirect("schools_import")
    districts = District.objects.select_related("convener_school").annotate(
        school_count=Count("schools")
    )
    return render(
        request,
        "portal/schools_import.html",
        {
            "form": form,
            "errors": errors,
            "result": result,
            "districts": districts,
            "school_count": School.objects.count(),
        },  # fmt: skip
        status=400 if errors else 200,
    )


STATUS_FILTERS = {"pending": "等待接受", "accepted": "已接受", "revoked": "已撤銷",
                  "expired": "已過期"}  # fmt: skip


@require_http_methods(["GET", "POST"])
@access.staff_required("只有教育局人員可以寄出與管理邀請。")
def invitations(request):
    form = PeopleListForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        name, data = _upload(form)
        try:
            result = invitations_send(
                name=name, data=data, invited_by=request.user, request=request
            )
        except ImportRefused as exc:
            errors = exc.errors
        else:
            messages.success(request, result.summary())
            return redirect("invitations")
    rows = list(
        Invitation.objects.select_related("school", "district", "division", "accepted_by").order_by(
            "-created_at"
        )
    )
    counts = {key: 0 for key in STATUS_FILTERS}
    for invitation in rows:
        counts[invitation.status] += 1
    status = request.GET.get("status", "")
    if status in STATUS_FILTERS:
        rows = [i for i in rows if i.status == status]
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    filters = [{"key": k, "label": v, "count": counts[k], "current": k == status}
               for k, v in STATUS_FILTERS.items()]  # fmt: skip
    return render(
        request,
        "portal/invitations.html",
        {
            "form": form,
            "errors": errors,
            "page": page,
            "filters": filters,
            "status": status,
            "total": sum(counts.values()),
        },  # fmt: skip
        status=400 if errors else 200,
    )


def _back_to_list(request):
    status = request.POST.get("status", "")
    url = redirect("invitations").url
    return redirect(f"{url}?status={status}" if status in STATUS_FILTERS else url)


def _on_invitation(request, pk, service, done):
    """Call `service` on one invitation, say what happened (`done` names the address), and go
    back to the list as it was filtered; a refusal (already accepted, …) is the message."""
    invitation = get_object_or_404(Invitation, pk=pk)
    try:
        service(invitation=invitation, by=request.user, request=request)
        messages.success(request, done.format(email=invitation.email))
    except InvitationError as exc:
        messages.error(request, str(exc))
    return _back_to_list(request)


@require_POST
@access.staff_required("只有教育局人員可以重寄邀請。")
def invitation_resend_view(request, pk):
    return _on_invitation(
        request, pk, invitation_resend, "已重寄邀請給 {email}（效期重新計算 14 天）。"
    )


@require_POST
@access.staff_required("只有教育局人員可以撤銷邀請。")
def invitation_revoke_view(request, pk):
    return _on_invitation(request, pk, invitation_revoke, "已撤銷給 {email} 的邀請，連結立即失效。")


class MailTestForm(forms.Form):
    to = forms.EmailField(label="收件人", help_text="寄一封測試信到這個地址。")


@require_http_methods(["GET", "POST"])
@access.staff_required("只有教育局人員可以測試寄信。")
def mail_test(request):
    form = MailTestForm(request.POST or None, initial={"to": request.user.email})
    outcome = None
    if request.method == "POST" and form.is_valid():
        accepted, text = mail_test_send(
            to=form.cleaned_data["to"], user=request.user, request=request
        )
        outcome = {"accepted": accepted, "text": text}
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    return render(
        request,
        "portal/mail_test.html",
        {
            "form": form,
            "outcome": outcome,
            "backend": backend,
            "host": getattr(settings, "EMAIL_HOST", ""),
        },  # fmt: skip
    )
