"""Proposals (提案): a convener sends a district's proposal before the deadline (a coordinator
through the convener); the bureau accepts it onto the agenda, returns it with a reason, merges it
or carries it over to the next meeting, where it comes back by itself. Every move is a row and
an e-mail; a draft is seen only by its author and the bureau."""

from datetime import date, datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import agenda, convening, proposals
from meetings.models import Proposal, ProposalTransition

TZ = timezone.get_default_timezone()
S = Proposal.State


@pytest.fixture
def october(bureau, run_on_commit):
    meeting = convening.meeting_plan(
        user=bureau, title="115 年度 10 月份聯席會議", held_on=date(2026, 10, 13),
        start_time=time(10, 0), place="研發中心", proposals_due=datetime(2026, 10, 6, 17, 0, tzinfo=TZ),
    )  # fmt: skip
    run_on_commit(convening.notice_publish, meeting=meeting, user=bureau)
    return meeting


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


@pytest.fixture
def now(monkeypatch):
    """It is 115/9/30 noon (before the deadline) unless a test moves the clock."""
    clock = {"now": datetime(2026, 9, 30, 12, 0, tzinfo=TZ)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    return clock


def write(user, meeting, district, subject="請統一採購校園網路設備", **kwargs):
    return proposals.proposal_create(
        meeting=meeting, user=user, district=district, subject=subject,
        explanation=kwargs.get("explanation", "各校設備老舊。"), method=kwargs.get("method", ""),
    )  # fmt: skip


def test_a_convener_sends_a_proposal_and_the_bureau_is_mailed(
    now, bureau, convener, wenshan, october, run_on_commit, mailoutbox
):
    mailoutbox.clear()
    proposal = write(convener, october, wenshan, method="由教育局統一招標。")
    assert proposal.state == S.DRAFT and mailoutbox == []
    run_on_commit(proposals.proposal_move, proposal=proposal, user=convener, to=S.SUBMITTED)
    assert [m.to for m in mailoutbox] == [[bureau.email]]
    message = mailoutbox[0]
    assert message.subject == "【提案已送出】115 年度 10 月份聯席會議：請統一採購校園網路設備"
    assert (
        "文山分區為「115 年度 10 月份聯席會議」（民國 115 年 10 月 13 日（星期二））"
        in message.body
    )
    assert "民國 115 年 9 月 30 日（星期三）下午 12 時" in message.body
    assert "辦法：由教育局統一招標。" in message.body
    assert f"/meetings/proposals/{proposal.pk}/" in message.body
    assert list(ProposalTransition.objects.values_list("old_state", "new_state")) == [
        ("", "draft"), ("draft", "submitted")
    ]  # fmt: skip


def test_a_coordinator_goes_through_the_convener(
    now, bureau, coordinator, convener, wenshan, october, run_on_commit, mailoutbox
):
    mailoutbox.clear()
    proposal = write(coordinator, october, wenshan)
    assert proposals.moves_for(coordinator, proposal) == [S.AT_CONVENER]  # not straight on
    with pytest.raises(proposals.ProposalError):
        proposals.proposal_move(proposal=proposal, user=coordinator, to=S.SUBMITTED)
    run_on_commit(proposals.proposal_move, proposal=proposal, user=coordinator, to=S.AT_CONVENER)
    assert [m.to for m in mailoutbox] == [[convener.email]]
    assert mailoutbox[0].subject.startswith("【提案待分區代表送出】")
    run_on_commit(proposals.proposal_move, proposal=proposal, user=convener, to=S.SUBMITTED)
    assert mailoutbox[-1].to == [bureau.email]


def test_a_draft_is_seen_only_by_its_author_and_the_bureau(
    now, login, bureau, coordinator, other_coordinator, convener, wenshan, october
):
    proposal = write(coordinator, october, wenshan)
    url = reverse("meetings:proposal", args=[proposal.pk])
    listing = reverse("meetings:proposals", args=[october.pk])
    for user, status in (
        (coordinator, 200),
        (bureau, 200),
        (convener, 403),
        (other_coordinator, 403),
    ):
        client = login(user)
        assert client.get(url).status_code == status, user
        assert ("請統一採購" in client.get(listing).content.decode()) == (status == 200), user
    proposals.proposal_move(proposal=proposal, user=coordinator, to=S.AT_CONVENER)
    assert login(convener).get(url).status_code == 200  # handed to the convener
    assert login(other_coordinator).get(url).status_code == 403  # not on the agenda


def test_no_proposal_before_the_notice_nor_after_the_deadline(
    now, bureau, convener, wenshan, october
):
    quiet = convening.meeting_plan(user=bureau, title="十一月", held_on=date(2026, 11, 10))
    with pytest.raises(proposals.ProposalError, match="不能為這個分區"):
        write(convener, quiet, wenshan)
    proposal = write(convener, october, wenshan)
    now["now"] = datetime(2026, 10, 6, 17, 1, tzinfo=TZ)
    with pytest.raises(proposals.ProposalError, match="已超過提案截止時間"):
        proposals.proposal_move(proposal=proposal, user=convener, to=S.SUBMITTED)
    assert Proposal.objects.get(pk=proposal.pk).state == S.DRAFT


def test_the_bureau_accepts_in_order_and_the_agenda_numbers_them(
    now, bureau, convener, wenshan, banqiao, october, run_on_commit, mailoutbox
):
    from tests import factories

    banqiao_convener = factories.convener_of(banqiao, username="banqiao-convener")
    first = write(convener, october, wenshan, subject="甲案")
    second = write(banqiao_convener, october, banqiao, subject="乙案")
    for p, by in ((first, convener), (second, banqiao_convener)):
        proposals.proposal_move(proposal=p, user=by, to=S.SUBMITTED)
    mailoutbox.clear()
    run_on_commit(proposals.proposal_move, proposal=second, user=bureau, to=S.ACCEPTED)
    run_on_commit(proposals.proposal_move, proposal=first, user=bureau, to=S.ACCEPTED)
    section = next(s for s in agenda.agenda_of(october) if s.key == "proposals")
    assert section.heading == "肆、提案討論"
    assert section.lines == [
        "案由一：乙案（提案單位：板橋分區）",
        "案由二：甲案（提案單位：文山分區）",
    ]
    assert sorted(m.to[0] for m in mailoutbox) == sorted([convener.email, banqiao_convener.email])
    assert all(m.subject.startswith("【提案已列入議程】") for m in mailoutbox)


def test_returning_needs_a_reason_and_the_author_can_fix_and_resend(
    now, bureau, convener, wenshan, october, run_on_commit, mailoutbox
):
    proposal = write(convener, october, wenshan)
    proposals.proposal_move(proposal=proposal, user=convener, to=S.SUBMITTED)
    with pytest.raises(proposals.ProposalError, match="請填寫原因"):
        proposals.proposal_move(proposal=proposal, user=bureau, to=S.RETURNED)
    mailoutbox.clear()
    run_on_commit(
        proposals.proposal_move, proposal=proposal, user=bureau, to=S.RETURNED,
        reason="請補充經費概算",
    )  # fmt: skip
    assert "原因：請補充經費概算" in mailoutbox[0].body and mailoutbox[0].to == [convener.email]
    proposals.proposal_update(
        proposal=proposal, user=convener, subject="請統一採購", explanation="經費約 200 萬元。"
    )
    proposals.proposal_move(proposal=proposal, user=convener, to=S.SUBMITTED)
    assert Proposal.objects.get(pk=proposal.pk).explanation == "經費約 200 萬元。"
    assert [t.new_state for t in proposal.transitions.all()] == [
        "draft", "submitted", "returned", "submitted"
    ]  # fmt: skip


def test_merging_into_another_proposal(now, bureau, convener, wenshan, october):
    a, b = (
        write(convener, october, wenshan, subject="甲"),
        write(convener, october, wenshan, subject="乙"),
    )
    for p in (a, b):
        proposals.proposal_move(proposal=p, user=convener, to=S.SUBMITTED)
    with pytest.raises(proposals.ProposalError, match="另一案"):
        proposals.proposal_move(proposal=a, user=bureau, to=S.MERGED, into=a)
    proposals.proposal_move(proposal=a, user=bureau, to=S.MERGED, into=b)
    a.refresh_from_db()
    assert a.state == S.MERGED and a.merged_into == b
    assert a.transitions.last().reason == "併入「乙」"


def test_a_carried_proposal_comes_back_to_the_next_meeting_once(
    now, bureau, convener, wenshan, october
):
    proposal = write(convener, october, wenshan)
    proposals.proposal_move(proposal=proposal, user=convener, to=S.SUBMITTED)
    proposals.proposal_move(proposal=proposal, user=bureau, to=S.ACCEPTED)
    proposals.proposal_move(
        proposal=proposal, user=bureau, to=S.CARRIED, reason="請板橋分區再行討論後於下次會議提出"
    )
    november = convening.meeting_plan(user=bureau, title="115 年度 11 月份聯席會議",
                                      held_on=date(2026, 11, 10))  # fmt: skip
    back = Proposal.objects.get(meeting=november)
    assert (back.state, back.carried_from, back.subject) == (
        S.SUBMITTED,
        proposal,
        proposal.subject,
    )
    assert back.transitions.get().reason == "延續自115 年度 10 月份聯席會議（於下次會議提出）"
    assert proposals.proposals_carry_over(meeting=november) == []  # once only


def test_members_cannot_accept_and_the_page_offers_only_their_moves(
    now, login, bureau, convener, wenshan, october
):
    proposal = write(convener, october, wenshan)
    proposals.proposal_move(proposal=proposal, user=convener, to=S.SUBMITTED)
    client = login(convener)
    html = client.get(reverse("meetings:proposal", args=[proposal.pk])).content.decode()
    assert "列入議程</button>" not in html
    client.post(reverse("meetings:proposal_move", args=[proposal.pk, "accepted"]))
    assert Proposal.objects.get(pk=proposal.pk).state == S.SUBMITTED
    staff = login(bureau)
    html = staff.get(reverse("meetings:proposal", args=[proposal.pk])).content.decode()
    assert "列入議程</button>" in html and "退回</button>" in html
    assert (
        staff.post(reverse("meetings:proposal_move", args=[proposal.pk, "accepted"])).status_code
        == 302
    )
    assert Proposal.objects.get(pk=proposal.pk).state == S.ACCEPTED
    assert (
        staff.post(reverse("meetings:proposal_move", args=[proposal.pk, "bogus"])).status_code
        == 404
    )


def test_a_convener_writes_and_sends_a_proposal_on_the_pages(
    now, login, bureau, convener, wenshan, october
):
    client = login(convener)
    response = client.post(
        reverse("meetings:proposal_new", args=[october.pk]),
        {
            "district": wenshan.pk,
            "subject": "請辦理 AI 研習",
            "explanation": "教師需求高。",
            "method": "",
        },
    )
    proposal = Proposal.objects.get()
    assert response["Location"] == reverse("meetings:proposal", args=[proposal.pk])
    client.post(reverse("meetings:proposal_move", args=[proposal.pk, "submitted"]))
    assert Proposal.objects.get().state == S.SUBMITTED
