"""minutes_import_apply: the seed's tables become items with their history, once."""

import pytest

from tracking.models import Change, Review, TrackedItem
from tracking.selectors import minutes_tables
from tracking.services import MinutesImportError, meeting_saved, minutes_import_apply


def test_the_two_reviewed_items_exist_as_closed_items_with_their_history(imported_seed):
    reviewed = TrackedItem.objects.filter(reviews__meeting=imported_seed).order_by("case_no")
    assert [i.case_no for i in reviewed] == ["108-09-R01", "108-09-R02"]
    openid = reviewed[0]
    assert openid.subject.startswith("提早進行校園網站黑快馬的會員機制結合 OpenID")
    assert openid.state == TrackedItem.State.CLOSED
    assert openid.closed_on == imported_seed.held_on
    review = openid.reviews.get()
    assert review.previous_status.startswith("已完成招標程序")
    assert review.current_status.startswith("1、已於 108 年 8 月 29 日提供線上更新")
    assert review.resolution == "本案解列。"
    assert review.decision == "close" and review.is_decided
    states = list(openid.changes.filter(field="state").values_list("old", "new"))
    assert states == [("", "open"), ("open", "closed")]


def test_the_two_new_items_are_open_and_linked_to_motions_four_and_five(imported_seed):
    new = list(TrackedItem.objects.filter(origin_meeting=imported_seed).order_by("case_no"))
    assert [i.case_no for i in new] == ["108-09-01", "108-09-02"]
    assert all(i.state == TrackedItem.State.OPEN for i in new)
    assert [i.origin_motion.position for i in new] == [4, 5]
    # the minutes' own wording of the item, not the motion's 案由
    assert new[0].subject.startswith("為防範學生資料外洩")


def test_the_minutes_tables_come_back_in_the_official_order(imported_seed):
    tables = minutes_tables(imported_seed)
    assert [r["case_no"] for r in tables["previous"]] == ["108-09-R01", "108-09-R02"]
    assert tables["previous"][1]["previous_status"] == "/"
    assert tables["previous"][0]["resolution"] == "本案解列。"
    assert [r["case_no"] for r in tables["new"]] == ["108-09-01", "108-09-02"]
    assert tables["new"][1]["subject"].startswith("有關校務行政系統還原密碼事宜")


def test_importing_the_same_tables_again_changes_nothing(imported_seed, seed_tables):
    before = (TrackedItem.objects.count(), Review.objects.count(), Change.objects.count())
    minutes_import_apply(meeting=imported_seed, **seed_tables)
    meeting_saved(meeting=imported_seed)
    assert (TrackedItem.objects.count(), Review.objects.count(), Change.objects.count()) == before


def test_meeting_saved_before_the_import_does_not_duplicate_the_motion_items(
    seed_meeting, seed_tables
):
    meeting_saved(meeting=seed_meeting)  # opens 108-09-01 and -02 from 臨時動議四 and 五
    assert TrackedItem.objects.filter(origin_meeting=seed_meeting).count() == 2
    minutes_import_apply(meeting=seed_meeting, **seed_tables)
    assert TrackedItem.objects.filter(origin_meeting=seed_meeting).count() == 2
    first = TrackedItem.objects.get(case_no="108-09-01")
    assert first.subject.startswith("為防範學生資料外洩")
    assert first.changes.filter(field="subject").count() == 1


def test_motions_recreated_by_a_reimport_find_their_items(imported_seed, seed_tables):
    from meetings.models import Motion

    old = list(
        imported_seed.motions.order_by("position").values("position", "subject", "resolution")
    )
    imported_seed.motions.all().delete()
    for row in old:
        Motion.objects.create(meeting=imported_seed, kind=Motion.Kind.EXTEMPORE, **row)
    minutes_import_apply(meeting=imported_seed, **seed_tables)
    meeting_saved(meeting=imported_seed)
    items = TrackedItem.objects.filter(origin_meeting=imported_seed).order_by("case_no")
    assert items.count() == 2
    assert [i.origin_motion.position for i in items] == [4, 5]


def test_a_decision_outside_the_table_is_refused_naming_the_row(seed_meeting, seed_tables):
    seed_tables["tracked_items"][1]["resolution"] = "請各校自行研議。"
    with pytest.raises(MinutesImportError) as refused:
        minutes_import_apply(meeting=seed_meeting, **seed_tables)
    assert "上次會議追蹤列管事項第 2 列" in str(refused.value)
    assert "繼續列管、本案解列、併案" in str(refused.value)
    assert not TrackedItem.objects.exists()  # validated before anything was saved


def test_a_merge_without_a_case_number_is_refused(seed_meeting, seed_tables):
    seed_tables["tracked_items"][0]["resolution"] = "併案辦理。"
    with pytest.raises(MinutesImportError, match="併入的案號"):
        minutes_import_apply(meeting=seed_meeting, **seed_tables)


def test_an_empty_subject_is_refused(seed_meeting, seed_tables):
    seed_tables["new_tracked_items"][0]["subject"] = "  "
    with pytest.raises(MinutesImportError, match="新追蹤列管事項第 1 列"):
        minutes_import_apply(meeting=seed_meeting, **seed_tables)


def test_a_later_import_matches_reviewed_rows_to_the_open_items(imported_seed, make_meeting):
    from datetime import date

    october = make_meeting(date(2019, 10, 15))
    minutes_import_apply(
        meeting=october,
        tracked_items=[
            {"case_no": "1", "subject": "為防範學生資料外洩，建議學校人員在校務行政系統撈取大量學生資料時，需有校內簽核流程，方可進行。",
             "previous_status": "/", "current_status": "已完成簽核流程設計。", "resolution": "本案解列。"},
            {"case_no": "108-09-02", "subject": "還原密碼由廠商客服協助",
             "previous_status": "/", "current_status": "與廠商協商中。", "resolution": "繼續列管。"},
        ],
        new_tracked_items=[],
    )  # fmt: skip
    assert TrackedItem.objects.get(case_no="108-09-01").state == "closed"
    assert TrackedItem.objects.get(case_no="108-09-02").state == "open"
    assert TrackedItem.objects.count() == 4  # nothing new was created
