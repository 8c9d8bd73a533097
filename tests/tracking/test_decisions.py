"""review_decide: decisions move items through the table, leave rows, and freeze the minutes."""

from datetime import date

import pytest

from tracking import services
from tracking.models import Change, Review, TrackedItem
from tracking.selectors import minutes_tables


@pytest.fixture
def october(imported_seed, make_meeting):
    meeting = make_meeting(date(2019, 10, 15))
    services.meeting_saved(meeting=meeting)
    return meeting


def _review(meeting, case_no):
    return Review.objects.get(meeting=meeting, item__case_no=case_no)


def test_merging_links_the_item_and_records_who_and_why(october, bureau):
    services.review_decide(
        review=_review(october, "108-09-02"), decision="merge", merge_into="108-09-01", user=bureau
    )
    merged = TrackedItem.objects.get(case_no="108-09-02")
    assert merged.state == "merged" and merged.merged_into.case_no == "108-09-01"
    change = merged.changes.filter(field="state").last()
    assert (change.old, change.new, change.actor, change.meeting) == (
        "open",
        "merged",
        bureau,
        october,
    )
    assert change.reason == "本案併入 108-09-01 案。"


def test_continuing_keeps_the_item_open_without_a_state_change(october, bureau):
    before = Change.objects.count()
    services.review_decide(review=_review(october, "108-09-01"), decision="continue", user=bureau)
    assert TrackedItem.objects.get(case_no="108-09-01").state == "open"
    assert Change.objects.count() == before
    assert _review(october, "108-09-01").resolution == "繼續列管。"


def test_a_decided_review_is_frozen(october, bureau, platform_clerk):
    review = _review(october, "108-09-01")
    services.review_decide(review=review, decision="continue", current_status="進行中", user=bureau)
    with pytest.raises(services.TrackingError, match="不再更改"):
        services.review_decide(review=review, decision="close", user=bureau)
    # a later update goes to the next meeting, not into the October minutes
    services.status_update_post(
        item=review.item, user=platform_clerk, text="十月會議之後的辦理情形"
    )
    assert minutes_tables(october)["previous"][0]["current_status"] == "進行中"


def test_merging_into_an_unknown_or_closed_item_is_refused(october, bureau):
    with pytest.raises(services.TransitionError, match="找不到案號"):
        services.review_decide(
            review=_review(october, "108-09-02"), decision="merge", merge_into="108-09-77"
        )
    with pytest.raises(services.TransitionError, match="已不在列管中"):
        services.review_decide(
            review=_review(october, "108-09-02"), decision="merge", merge_into="108-09-R01"
        )
    assert not _review(october, "108-09-02").is_decided
