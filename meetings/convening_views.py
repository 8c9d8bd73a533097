"""Pages of the meeting before it happens: plan it, publish the notice, change or cancel it,
and the agenda page members read once the notice is out. Thin: gate, load, call, render."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from portal import access, rocdate
from portal.models import Division

from . import agenda, convening, proposals
from .convening_forms import (
    CancelForm,
    ChangeForm,
    DivisionReportForm,
    PlanForm,
    ProposalForm,
    ProposalReasonForm,
)
from .models import Announcement, Convening, Meeting, Proposal, ReportItem

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


@require_POST
@staff_required
def minutes_open(request, pk):
    """After the meeting the recorder turns the agenda into the draft minutes and writes the
    決議 there (the minutes' edit page)."""
    meeting = get_object_or_404(Meeting, pk=pk)
    try:
        made = convening.minutes_from_agenda(meeting=meeting, user=request.user)
    except convening.ConveningError as exc:
        return _state_refusal(request, meeting, exc)
    messages.success(
        request,
        f"已把議程轉為會議紀錄草稿（{len(made)} 項提案列入提案討論）：請填寫各案決議、"
        "臨時動議，再發布。",
    )
    return redirect("meetings:edit", pk=meeting.pk)


# --- proposals (提案) --------------------------------------------------------------------------

MOVE_BUTTONS = {
    Proposal.State.AT_CONVENER: "送交分區代表",
    Proposal.State.SUBMITTED: "送出給教育局",
    Proposal.State.ACCEPTED: "列入議程",
    Proposal.State.RETURNED: "退回",
    Proposal.State.MERGED: "併案",
    Proposal.State.CARRIED: "於下次會議提出",
}


@access.role_required
def proposal_list(request, pk):
    meeting, plan = _meeting_for(request, pk)
    context = {
        "meeting": meeting,
        "plan": plan,
        "proposals": proposals.visible_proposals(request.user, meeting),
        "staff": access.is_staff(request.user),
        "can_propose": bool(access.proposal_district_ids(request.user))
        and plan is not None
        and not plan.is_cancelled,
    }
    return render(request, "meetings/convening/proposals.html", context)


@access.role_required
def proposal_new(request, pk):
    meeting, plan = _meeting_for(request, pk)
    districts = proposals.districts_for(request.user)
    access.require(request, districts.exists(), "只有分區代表與資訊組長可以提出提案。")
    form = ProposalForm(request.POST or None, districts=districts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = proposals.proposal_create(
                meeting=meeting, user=request.user, district=data["district"],
                subject=data["subject"], explanation=data["explanation"], method=data["method"],
            )  # fmt: skip
        except proposals.ProposalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已儲存提案草稿：只有您與教育局看得到，確認後請送出。")
            return redirect("meetings:proposal", pk=proposal.pk)
    return render(
        request, "meetings/convening/proposal_form.html", {"form": form, "meeting": meeting}
    )


def _proposal_for(request, pk):
    proposal = get_object_or_404(Proposal.objects.select_related("meeting", "district"), pk=pk)
    plan = Convening.objects.filter(meeting=proposal.meeting).first()
    visible = access.can_view_proposal(
        request.user, proposal, agenda_visible=access.can_view_agenda(request.user, plan)
    )
    access.require(request, visible, "這份提案尚未公開。")
    return proposal


@access.role_required
def proposal_detail(request, pk):
    proposal = _proposal_for(request, pk)
    moves = proposals.moves_for(request.user, proposal)
    others = []
    if Proposal.State.MERGED in moves:
        others = Proposal.objects.filter(
            meeting=proposal.meeting, state__in=[Proposal.State.SUBMITTED, Proposal.State.ACCEPTED]
        ).exclude(pk=proposal.pk)
    context = {
        "proposal": proposal,
        "meeting": proposal.meeting,
        "moves": [(m, MOVE_BUTTONS[m]) for m in moves],
        "others": others,
        "editable": proposal.author_id == request.user.pk and proposal.state in proposals.EDITABLE,
        "transitions": proposal.transitions.select_related("by"),
    }
    return render(request, "meetings/convening/proposal.html", context)


@access.role_required
def proposal_edit(request, pk):
    proposal = _proposal_for(request, pk)
    access.require(
        request,
        proposal.author_id == request.user.pk and proposal.state in proposals.EDITABLE,
        "只有撰寫人可以修改草稿或被退回的提案。",
    )
    form = ProposalForm(request.POST or None, initial={
        "subject": proposal.subject, "explanation": proposal.explanation, "method": proposal.method,
    })  # fmt: skip
    if request.method == "POST" and form.is_valid():
        proposals.proposal_update(proposal=proposal, user=request.user, **form.cleaned_data)
        messages.success(request, "已儲存提案。")
        return redirect("meetings:proposal", pk=proposal.pk)
    context = {"form": form, "meeting": proposal.meeting, "proposal": proposal}
    return render(request, "meetings/convening/proposal_form.html", context)


@require_POST
@access.role_required
def proposal_move(request, pk, to):
    proposal = _proposal_for(request, pk)
    if to not in MOVE_BUTTONS:
        raise Http404
    form = ProposalReasonForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    into = None
    if data.get("into"):
        into = Proposal.objects.filter(pk=data["into"]).first()
    try:
        proposals.proposal_move(
            proposal=proposal, user=request.user, to=to, reason=data.get("reason", ""), into=into
        )
    except proposals.ProposalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"提案已改為「{Proposal.State(to).label}」。")
    return redirect("meetings:proposal", pk=proposal.pk)


# --- the agenda's reports and export --------------------------------------------------------


@staff_required
def division_reports(request, pk):
    meeting = get_object_or_404(Meeting.objects.select_related("series"), pk=pk)
    if request.method == "POST":
        form = DivisionReportForm(request.POST)
        division = None
        if form.is_valid():
            division = Division.objects.filter(pk=form.cleaned_data["division"]).first()
        if division is None:
            messages.error(request, "請輸入業務報告內容（每行一項）。")
        else:
            access.require(
                request, access.can_update_division_work(request.user, division),
                f"只有{division.name}的人員可以填寫這一組的業務報告。",
            )  # fmt: skip
            try:
                convening.division_report_add(
                    meeting=meeting, user=request.user, division=division,
                    text=form.cleaned_data["text"],
                )  # fmt: skip
            except convening.ConveningError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已加入{division.name}的業務報告。")
        return redirect("meetings:division_reports", pk=meeting.pk)
    items = ReportItem.objects.filter(meeting=meeting, parent__isnull=True).order_by(
        "position", "id"
    )
    slots = [
        {
            "division": d,
            "items": [i for i in items if i.division_id == d.pk],
            "form": DivisionReportForm(initial={"division": d.pk}, auto_id=f"id_d{d.pk}_%s")
            if access.can_update_division_work(request.user, d)
            else None,
        }
        for d in Division.objects.order_by("position")
    ]
    context = {"meeting": meeting, "slots": slots, "published": meeting.is_published}
    return render(request, "meetings/convening/reports.html", context)


@access.role_required
def agenda_docx(request, pk):
    meeting, plan = _meeting_for(request, pk)
    body = agenda.as_docx(meeting, agenda.agenda_of(meeting))
    response = HttpResponse(
        body,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    name = f"{rocdate.roc_year(meeting.held_on)}年{meeting.held_on.month}月會議議程.docx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    return response
