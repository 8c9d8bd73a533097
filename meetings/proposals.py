"""Proposals (提案) for a coming meeting: written by a district, sent by its convener before the
bureau's deadline, accepted onto the agenda, returned with a reason, merged into another, or
carried over to the next meeting (於下次會議提出), where it comes back by itself.

Allowed moves are one table (MOVES); each move is a ProposalTransition row and an e-mail."""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from portal import access, audit, mail
from portal.models import District, Role

from .convening_models import Convening
from .models import Meeting
from .proposal_models import Proposal, ProposalTransition

log = logging.getLogger(__name__)
S = Proposal.State

# (from, to) → who may make the move: "author", "convener" (of the district) or "bureau"
MOVES = {
    (S.DRAFT, S.AT_CONVENER): "author",
    (S.RETURNED, S.AT_CONVENER): "author",
    (S.DRAFT, S.SUBMITTED): "convener",
    (S.RETURNED, S.SUBMITTED): "convener",
    (S.AT_CONVENER, S.SUBMITTED): "convener",
    (S.AT_CONVENER, S.RETURNED): "convener",
    (S.SUBMITTED, S.ACCEPTED): "bureau",
    (S.SUBMITTED, S.RETURNED): "bureau",
    (S.SUBMITTED, S.MERGED): "bureau",
    (S.ACCEPTED, S.MERGED): "bureau",
    (S.ACCEPTED, S.CARRIED): "bureau",
}
# moves into these states are bound by the bureau's deadline
BEFORE_DEADLINE = {S.AT_CONVENER, S.SUBMITTED}
EDITABLE = {S.DRAFT, S.RETURNED}


class ProposalError(ValueError):
    """A move the proposal's state or the person's role does not allow (Chinese message)."""


def _convening(meeting):
    return Convening.objects.filter(meeting=meeting).first()


def _may(user, proposal, who):
    if who == "bureau":
        return access.is_staff(user)
    if who == "convener":
        return access.can_send_proposal_for(user, proposal.district_id)
    return proposal.author_id == user.pk


def moves_for(user, proposal):
    """The states `user` may move `proposal` to now (the page offers these buttons only)."""
    return [
        new
        for (old, new), who in MOVES.items()
        if old == proposal.state and _may(user, proposal, who)
    ]


@transaction.atomic
def proposal_create(*, meeting, user, district, subject, explanation, method=""):
    plan = _convening(meeting)
    if not access.can_view_agenda(user, plan) or district.pk not in access.proposal_district_ids(
        user
    ):
        raise ProposalError("您不能為這個分區提出提案。")
    if plan is None or plan.is_cancelled or meeting.is_published:
        raise ProposalError("這次會議不再收提案。")
    subject, explanation = (subject or "").strip(), (explanation or "").strip()
    if not subject or not explanation:
        raise ProposalError("請填寫案由與說明。")
    proposal = Proposal.objects.create(
        meeting=meeting, district=district, author=user, subject=subject,
        explanation=explanation, method=(method or "").strip(),
    )  # fmt: skip
    _record(proposal, "", S.DRAFT, user, "")
    return proposal


@transaction.atomic
def proposal_update(*, proposal, user, subject, explanation, method=""):
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.author_id != user.pk or proposal.state not in EDITABLE:
        raise ProposalError("只有撰寫人可以修改草稿或被退回的提案。")
    if not (subject or "").strip() or not (explanation or "").strip():
        raise ProposalError("請填寫案由與說明。")
    proposal.subject, proposal.explanation = subject.strip(), explanation.strip()
    proposal.method = (method or "").strip()
    proposal.save(update_fields=["subject", "explanation", "method", "updated_at"])
    return proposal


@transaction.atomic
def proposal_move(*, proposal, user, to, reason="", into=None):
    """Move a proposal to state `to`, if the table allows it for this person, and record it."""
    proposal = Proposal.objects.select_for_update().select_related("meeting").get(pk=proposal.pk)
    old = proposal.state
    who = MOVES.get((old, to))
    if who is None:
        raise ProposalError(
            f"提案目前「{proposal.get_state_display()}」，不能改為「{S(to).label}」。"
        )
    if not _may(user, proposal, who):
        raise ProposalError("您沒有權限執行這項操作。")
    plan = _convening(proposal.meeting)
    if plan is None or plan.is_cancelled or proposal.meeting.is_published:
        raise ProposalError("這次會議已取消或已有紀錄，提案不能再變更。")
    if to in BEFORE_DEADLINE and plan.proposals_due and timezone.now() > plan.proposals_due:
        raise ProposalError("已超過提案截止時間，請洽教育局承辦人。")
    reason = (reason or "").strip()[:300]
    if to == S.RETURNED and not reason:
        raise ProposalError("退回提案請填寫原因。")
    fields = ["state", "updated_at"]
    if to == S.ACCEPTED:
        last = Proposal.objects.filter(meeting=proposal.meeting, state=S.ACCEPTED).aggregate(
            m=Max("position")
        )["m"]
        proposal.position = (last or 0) + 1
        fields.append("position")
    if to == S.MERGED:
        into = Proposal.objects.filter(pk=into.pk).first() if into is not None else None
        if (
            into is None
            or into.pk == proposal.pk
            or into.meeting_id != proposal.meeting_id
            or into.state not in (S.SUBMITTED, S.ACCEPTED)
        ):
            raise ProposalError("請選擇同一次會議中已送出或已列入議程的另一案。")
        proposal.merged_into = into
        fields.append("merged_into")
        reason = reason or f"併入「{into.subject[:40]}」"
    proposal.state = to
    proposal.save(update_fields=fields)
    _record(proposal, old, to, user, reason)
    if to == S.CARRIED:
        later = (
            Meeting.objects.filter(held_on__gt=proposal.meeting.held_on, convening__isnull=False)
            .order_by("held_on", "id")
            .first()
        )
        if later is not None:
            proposals_carry_over(meeting=later, user=user)
    return proposal


def _record(proposal, old, new, user, reason):
    transition = ProposalTransition.objects.create(
        proposal=proposal, old_state=old, new_state=new, reason=reason, by=user
    )
    audit.record(
        "meetings.proposal_moved", actor=user, target=proposal, old=old, new=new,
        proposal_id=proposal.pk,
    )  # fmt: skip
    if old:  # a new draft tells no one
        from .tasks import send_proposal_mail

        transaction.on_commit(lambda: send_proposal_mail.delay(transition.pk))
    return transition


def proposals_carry_over(*, meeting, user=None):
    """Proposals carried over (於下次會議提出) from earlier meetings come back to `meeting`, the
    next one, as sent proposals the bureau accepts again. Safe to run twice."""
    waiting = Proposal.objects.filter(
        state=S.CARRIED, meeting__held_on__lt=meeting.held_on, carried_to__isnull=True
    ).select_related("meeting")
    back = []
    for old in waiting:
        proposal = Proposal.objects.create(
            meeting=meeting, district_id=old.district_id, author_id=old.author_id,
            subject=old.subject, explanation=old.explanation, method=old.method,
            state=S.SUBMITTED, carried_from=old,
        )  # fmt: skip
        ProposalTransition.objects.create(
            proposal=proposal, old_state="", new_state=S.SUBMITTED, by=user,
            reason=f"延續自{old.meeting.title}（於下次會議提出）",
        )  # fmt: skip
        back.append(proposal)
    return back


def visible_proposals(user, meeting):
    plan = _convening(meeting)
    agenda_visible = access.can_view_agenda(user, plan)
    rows = Proposal.objects.filter(meeting=meeting).select_related("district", "author")
    return [p for p in rows if access.can_view_proposal(user, p, agenda_visible=agenda_visible)]


# --- e-mail ------------------------------------------------------------------------------------


def _recipients(transition):
    """Sent to the bureau: bureau staff. Handed to the convener: the district's conveners.
    Otherwise (accepted, returned, merged, carried): the author and the district's conveners."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    proposal = transition.proposal
    conveners = users.filter(
        memberships__role=Role.CONVENER, memberships__district=proposal.district_id
    )
    if transition.new_state == S.SUBMITTED:
        found = users.filter(memberships__role=Role.BUREAU)
    elif transition.new_state == S.AT_CONVENER:
        found = conveners
    else:
        found = conveners | users.filter(pk=proposal.author_id)
    return list(found.exclude(pk=transition.by_id).distinct().order_by("pk"))


def proposal_mail_send(*, transition_id):
    transition = ProposalTransition.objects.select_related(
        "proposal__meeting", "proposal__district", "by"
    ).get(pk=transition_id)
    proposal = transition.proposal
    context = {
        "transition": transition,
        "proposal": proposal,
        "meeting": proposal.meeting,
        "new_label": S(transition.new_state).label,
        "path": reverse("meetings:proposal", args=[proposal.pk]),
    }
    sent = 0
    for user in _recipients(transition):
        mail.send_email("meetings_proposal", {**context, "user": user}, [user.email])
        sent += 1
    return sent


def districts_for(user):
    return District.objects.filter(pk__in=access.proposal_district_ids(user)).order_by("position")
