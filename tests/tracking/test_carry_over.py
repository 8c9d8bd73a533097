"""meeting_saved: the next meeting's 上次會議追蹤列管事項 fills itself; motions to track open items."""

from datetime import date

import pytest
from django.core.management import call_command

from meetings.models import Meeting, MeetingSeries
from tracking.models import Review, StatusUpdate, TrackedItem
from tracking.selectors import minutes_tables
from tracking.services import (
    TrackingError,
    meeting_create_next,
    meeting_saved,
    review_decide,
    status_update_post,
)

OCTOBER, NOVEMBER = date(2019, 10, 15), date(2019, 11, 12)


def _next_meeting(held_on):
    """Created directly with meetings.models, as the meetings app would, then announced."""
    latest = Meeting.objects.order_by("-held_on").first()
    meeting = Meeting.objects.create(
        series=latest.series if latest else MeetingSeries.objects.create(name="聯席會議", organiser="教育局"),
        held_on=held_on,
        title=f"{held_on.year - 1911} 年度 {held_on.month} 月份聯席會議",
    )  # fmt: skip
    meeting_saved(meeting=meeting)
    return meeting


def _done_when(seed):
    october = _next_meeting(OCTOBER)
    previous = minutes_tables(october)["previous"]
    assert [row["case_no"] for row in previous] == ["108-09-01", "108-09-02"]
    assert previous[0]["subject"].startswith("為防範學生資料外洩")
    assert all(row["resolution"] == "" for row in previous)
    assert minutes_tables(october)["new"] == []

    review = Review.objects.get(meeting=october, item__case_no="108-09-02")
    review_decide(review=review, decision="close")
    assert TrackedItem.objects.get(case_no="108-09-02").state == TrackedItem.State.CLOSED
    assert minutes_tables(october)["previous"][1]["resolution"] == "本案解列。"

    november = _next_meeting(NOVEMBER)
    assert [row["case_no"] for row in minutes_tables(november)["previous"]] == ["108-09-01"]


@pytest.mark.django_db
def test_after_load_demo_october_lists_the_seeds_two_new_items_and_closing_one_drops_it():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seed = Meeting.objects.get(held_on=date(2019, 9, 10))
    # meetings' importer handed the seed's tables to minutes_import_apply
    closed = TrackedItem.objects.filter(state="closed").order_by("case_no")
    assert [i.case_no for i in closed] == ["108-09-R01", "108-09-R02"]
    assert all(i.reviews.get(meeting=seed).resolution == "本案解列。" for i in closed)
    new = TrackedItem.objects.filter(origin_meeting=seed).order_by("case_no")
    assert [i.origin_motion.subject[:6] for i in new] == ["因學校家長反", "有關校務行政"]
    assert TrackedItem.objects.count() == 4
    _done_when(seed)


def test_the_same_with_only_the_tracking_demo_over_a_bare_portal(db):
    from portal.demo import load as portal_demo
    from tracking.demo import load as tracking_demo

    portal_demo()
    tracking_demo()
    tracking_demo()  # idempotent
    assert TrackedItem.objects.count() == 4
    _done_when(Meeting.objects.get(held_on=date(2019, 9, 10)))


def test_carry_over_copies_the_last_current_status_into_the_previous_status(
    imported_seed, platform_clerk
):
    item = TrackedItem.objects.get(case_no="108-09-01")
    item.division = platform_clerk.memberships.get().division
    item.save()
    october = _next_meeting(OCTOBER)
    status_update_post(item=item, user=platform_clerk, text="已完成簽核流程草案。")
    review = Review.objects.get(meeting=october, item=item)
    assert review.previous_status == "/"  # no earlier 現辦理情形
    assert review.current_status == "已完成簽核流程草案。"
    review_decide(review=review, decision="continue")

    november = _next_meeting(NOVEMBER)
    row = minutes_tables(november)["previous"][0]
    assert row["case_no"] == "108-09-01"
    assert row["previous_status"] == "已完成簽核流程草案。"
    assert row["current_status"] == ""  # left to be filled
    # the October minutes did not change
    assert Review.objects.get(meeting=october, item=item).current_status == "已完成簽核流程草案。"


def test_updates_posted_before_the_meeting_exists_fill_its_current_status(
    imported_seed, platform_clerk
):
    item = TrackedItem.objects.get(case_no="108-09-02")
    status_update_post(item=item, user=platform_clerk, text="已函請廠商報價。")
    status_update_post(item=item, user=platform_clerk, text="廠商同意寒暑假提供客服。")
    october = _next_meeting(OCTOBER)
    review = Review.objects.get(meeting=october, item=item)
    assert review.current_status == "1、已函請廠商報價。\n2、廠商同意寒暑假提供客服。"
    assert StatusUpdate.objects.filter(review=review).count() == 2


def test_meeting_saved_twice_adds_nothing(imported_seed):
    october = _next_meeting(OCTOBER)
    meeting_saved(meeting=october)
    meeting_saved(meeting=october)
    assert Review.objects.filter(meeting=october).count() == 2


def test_a_motion_whose_resolution_says_to_track_opens_an_item(make_meeting, imported_seed):
    october = make_meeting(
        OCTOBER,
        motions=[
            (1, "有關 NAS 連接市府 SSO 問題，提請討論。", "本案列為下次會議列管事項。"),
            (2, "有關研習時數，提請討論。", "請各校自行登錄。"),
        ],
    )
    meeting_saved(meeting=october)
    new = minutes_tables(october)["new"]
    assert new == [
        {"number": "1", "case_no": "108-10-01", "subject": "有關 NAS 連接市府 SSO 問題。"}
    ]
    item = TrackedItem.objects.get(case_no="108-10-01")
    assert item.origin_motion.position == 1
    assert item.changes.get().reason == "本案列為下次會議列管事項。"


def test_an_older_meeting_saved_late_does_not_receive_todays_open_items(
    imported_seed, make_meeting
):
    _next_meeting(OCTOBER)
    august = make_meeting(date(2019, 8, 20))
    meeting_saved(meeting=august)
    assert minutes_tables(august)["previous"] == []


def test_the_next_meeting_service_refuses_a_date_before_the_latest_meeting(imported_seed):
    with pytest.raises(TrackingError, match="必須晚於最近一次會議"):
        meeting_create_next(held_on=date(2019, 9, 1))
    meeting, result = meeting_create_next(held_on=OCTOBER)
    assert meeting.title == "108 年度 10 月份聯席會議"
    assert [r.item.case_no for r in result["carried"]] == ["108-09-01", "108-09-02"]
