"""From agenda to minutes in one step: after the meeting the recorder opens the agenda as the
draft minutes – the header, the tracked items carried into it, the divisions' reports and the
accepted proposals are already there – writes each 決議, adds 臨時動議 and publishes. The
published minutes are what importing their own text would give."""

from datetime import date, time

import pytest
from django.urls import reverse

from meetings import convening, proposals, rendering, selectors, services
from meetings.models import Meeting, Motion, Proposal
from tests.meetings.roundtrip import as_imported, as_stored
from tracking.models import Review, TrackedItem
from tracking.services import review_decide

S = Proposal.State


@pytest.fixture
def october(seed_meeting, bureau, django_capture_on_commit_callbacks):
    """The meeting after the seed's 108 年 9 月, noticed: tracking carried the open items in."""
    meeting = convening.meeting_plan(
        user=bureau, title="108 年度 10 月份聯席會議", held_on=date(2019, 10, 8),
        start_time=time(10, 0), place="新北市教育研究發展中心 3 樓網管會議室",
        chair="吳科長佳珊", recorder="吳安絜",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        convening.notice_publish(meeting=meeting, user=bureau)
    return meeting


def accepted(meeting, convener, district, bureau, subject, method=""):
    proposal = proposals.proposal_create(
        meeting=meeting, user=convener, district=district, subject=subject,
        explanation="各校設備已逾使用年限。", method=method,
    )  # fmt: skip
    proposals.proposal_move(proposal=proposal, user=convener, to=S.SUBMITTED)
    proposals.proposal_move(proposal=proposal, user=bureau, to=S.ACCEPTED)
    return proposal


def test_the_agenda_becomes_the_draft_minutes_with_the_accepted_proposals(
    october, bureau, convener, wenshan, divisions
):
    first = accepted(october, convener, wenshan, bureau, "請統一採購無線網路設備",
                     method="由教育局統一招標。")  # fmt: skip
    second = accepted(october, convener, wenshan, bureau, "請延長資訊週報名期限")
    convening.division_report_add(
        meeting=october, user=bureau, division=divisions[0], text="請各校更新網站。"
    )
    made = convening.minutes_from_agenda(meeting=october, user=bureau)
    assert [(m.kind, m.subject, m.proposer) for m in made] == [
        ("proposal", "請統一採購無線網路設備", "文山分區"),
        ("proposal", "請延長資訊週報名期限", "文山分區"),
    ]
    assert made[0].explanation == "各校設備已逾使用年限。\n辦法：由教育局統一招標。"
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.motion, second.motion) == (made[0], made[1])
    # once only: a second run adds nothing, a proposal accepted later is added after
    assert convening.minutes_from_agenda(meeting=october, user=bureau) == []
    third = accepted(october, convener, wenshan, bureau, "請補助投影機")
    assert [m.subject for m in convening.minutes_from_agenda(meeting=october, user=bureau)] == [
        "請補助投影機"
    ]
    assert Motion.objects.filter(meeting=october).count() == 3
    third.refresh_from_db()
    assert third.motion is not None
    text = rendering.as_text(selectors.meeting_document(october))
    assert "案由一：請統一採購無線網路設備" in text and "提案單位：文山分區" in text
    assert "(一)請各校更新網站。" in text and "出席人員：詳簽到表" in text


def test_nothing_is_opened_before_the_notice_or_after_a_cancellation(bureau, divisions):
    planned = convening.meeting_plan(user=bureau, title="108 年度 11 月份聯席會議",
                                     held_on=date(2019, 11, 12))  # fmt: skip
    with pytest.raises(convening.ConveningError, match="開會通知尚未發布"):
        convening.minutes_from_agenda(meeting=planned, user=bureau)
    convening.meeting_cancel(meeting=planned, user=bureau, reason="颱風")
    with pytest.raises(convening.ConveningError, match="已取消"):
        convening.minutes_from_agenda(meeting=planned, user=bureau)
    assert not planned.motions.exists()


def test_the_published_minutes_equal_what_importing_their_text_gives(
    october, bureau, convener, wenshan, divisions, django_capture_on_commit_callbacks
):
    accepted(october, convener, wenshan, bureau, "請統一採購無線網路設備",
             method="由教育局統一招標。")  # fmt: skip
    accepted(october, convener, wenshan, bureau, "請延長資訊週報名期限")
    convening.division_report_add(
        meeting=october, user=bureau, division=divisions[1],
        text="請各校於 10 月底前更新學校網站。\n資訊週活動報名至 10/20 止。",
    )  # fmt: skip
    convening.minutes_from_agenda(meeting=october, user=bureau)
    # the recorder writes each 決議, decides a tracked item, adds an extempore motion
    one, two = october.motions.order_by("position")
    services.motion_update(
        motion=one, user=bureau, changes={"resolution": "照案通過，列入追蹤列管。"}
    )
    services.motion_update(motion=two, user=bureau, changes={"resolution": "本案請文山分區再行於分區會議討論案由細節後，於下次會議提出。"})  # fmt: skip
    review = Review.objects.filter(meeting=october).order_by("position").first()
    review_decide(review=review, decision="close", user=bureau)
    services.motion_add(meeting=october, user=bureau, kind="extempore",
                        subject="資訊週場地借用。", resolution="由系統平臺組協調。")  # fmt: skip
    services.meeting_update(meeting=october, user=bureau, changes={"adjourned_time": time(12, 0)})
    with django_capture_on_commit_callbacks(execute=True):
        published = services.meeting_publish(meeting=october, user=bureau)

    text = rendering.as_text(selectors.meeting_document(Meeting.objects.get(pk=published.pk)))
    stored, imported = as_stored(published), as_imported(text)
    for part in stored:
        assert imported[part] == stored[part], part
    # tracking works as today: the 決議 opened an item, the decided one is closed
    assert [row["subject"] for row in stored["new_tracked"]] == ["請統一採購無線網路設備"]
    assert TrackedItem.objects.get(case_no=review.item.case_no).state == "closed"


def test_the_recorder_opens_the_minutes_from_the_agenda_page(login, october, bureau, coordinator):
    url = reverse("meetings:minutes_open", args=[october.pk])
    assert login(coordinator).post(url).status_code == 403
    client = login(bureau)
    assert "轉為會議紀錄草稿" in client.get(reverse("meetings:agenda", args=[october.pk])).text
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("meetings:edit", args=[october.pk])
    assert "已把議程轉為會議紀錄草稿" in response.text
