"""Pages of the meeting before it happens: plan it, publish the notice, change or cancel it,
and the agenda page members read once the notice is out. Thin: gate, load, call, render."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal import access

from . import agenda, convening
from .convening_forms import CancelForm, ChangeForm, PlanForm
from .models import Announcement, Convening, Meeting

staff_required = access.staff_required("只有教育局人員可以籌備會議、發布開會通知。")


def _meeting_for(request, pk):
    meeting = get_object_or_404(Meeting.objects.select_related("series"), pk=pk)
    plan = Convening.objects.filter(meeting=meeting).first()
    access.require(
        request, access.can_view_agenda(request.user, plan), "這次會議尚未發布開會通知。"
    )
    return meeting, plan


@access.role_required
def coming(request):
    """Meetings on or after today: members see those whose notice is out."""
    qs = (
        Convening.objects.filter(meeting__held_on__gte=timezone.localdate())
        .select_related("meeting")
        .order_by("meeting__held_on", "meeting__start_time", "meeting_id")
    )
    staff = access.is_staff(request.user)
    if not staff:
        qs = qs.filter(noticed_at__isnull=False)
    return render(request, "meetings/convening/coming.html", {"plans": qs[:50], "staff": staff})


@staff_required
def plan_new(request):
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        meeting = convening.meeting_plan(user=request.user, **form.changes())
        messages.success(request, "已建立會議（籌備中）。發布開會通知前，其他人看不到這次會議。")
        return redirect("meetings:agenda", pk=meeting.pk)
    return render(request, "meetings/convening/plan.html", {"form": form, "meeting": None})


@access.role_required
def agenda_page(request, pk):
    meeting, plan = _meeting_for(request, pk)
    staff = access.is_staff(request.user)
    context = {
        "meeting": meeting,
        "plan": plan,
        "agenda": agenda.agenda_of(meeting),
        "announcements": Announcement.objects.filter(meeting=meeting),
        "staff": staff,
        "cancel_form": CancelForm() if staff else None,
    }
    return render(request, "meetings/convening/agenda.html", context)


def _state_refusal(request, meeting, exc):
    messages.error(request, str(exc))
    return redirect("meetings:agenda", pk=meeting.pk)


@require_POST
@staff_required
def notice_publish(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    try:
        convening.notice_publish(meeting=meeting, user=request.user)
    except convening.ConveningError as exc:
        return _state_refusal(request, meeting, exc)
    messages.success(request, "已發布開會通知，並寄給所有資訊組長與分區代表。")
    return redirect("meetings:agenda", pk=meeting.pk)


@staff_required
def plan_edit(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    plan = convening.convening_of(meeting)
    initial = {name: getattr(meeting, name) for name in convening.ANNOUNCED_FIELDS
               if name != "proposals_due"}  # fmt: skip
    initial["proposals_due"] = plan.proposals_due
    form = ChangeForm(request.POST or None, initial=initial, noticed=plan.is_noticed)
    if request.method == "POST" and form.is_valid():
        try:
            sent = convening.convening_update(
                meeting=meeting, user=request.user, changes=form.changes(),
                reason=form.cleaned_data.get("reason", ""),
            )  # fmt: skip
        except convening.ConveningError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已儲存，並寄出變更通知。" if sent else "已儲存。")
            return redirect("meetings:agenda", pk=meeting.pk)
    return render(request, "meetings/convening/plan.html", {"form": form, "meeting": meeting})


@require_POST
@staff_required
def meeting_cancel(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "請填寫取消原因。")
        return redirect("meetings:agenda", pk=meeting.pk)
    try:
        sent = convening.meeting_cancel(
            meeting=meeting, user=request.user, reason=form.cleaned_data["reason"]
        )
    except convening.ConveningError as exc:
        return _state_refusal(request, meeting, exc)
    messages.success(request, "已取消會議，並寄出取消通知。" if sent else "已取消會議。")
    return redirect("meetings:agenda", pk=meeting.pk)
