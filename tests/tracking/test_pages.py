"""The list, item, meeting and next-meeting pages; feed; export; home block; query counts."""

from datetime import date, timedelta
from io import BytesIO
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from tests import factories
from tracking import services
from tracking.models import Review, StatusUpdate, TrackedItem


@pytest.fixture
def october(imported_seed, make_meeting):
    meeting = make_meeting(date(2019, 10, 15))
    services.meeting_saved(meeting=meeting)
    return meeting


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get(reverse("tracking:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_people_without_a_role_see_the_waiting_page_not_the_items(login, october):
    response = login(factories.UserFactory(username="nobody")).get(reverse("tracking:list"))
    body = response.content.decode()
    assert "帳號等待核准" in body and "108-09-01" not in body


def test_the_list_shows_open_items_by_default_with_their_age(login, coordinator, october):
    body = login(coordinator).get(reverse("tracking:list")).content.decode()
    assert "108-09-01" in body and "108-09-02" in body
    assert "108-09-R01" not in body  # closed
    assert "1 次會議" in body  # opened at 108-09, the October meeting was held since


def test_a_new_item_reads_naturally_and_the_latest_status_shows_its_words(
    login, coordinator, imported_seed, platform_clerk
):
    item = TrackedItem.objects.get(case_no="108-09-02")
    body = login(coordinator).get(reverse("tracking:list")).content.decode()
    assert "新列管" in body and "0 次會議" not in body  # no meeting held since it was opened
    services.status_update_post(item=item, user=platform_clerk, text="已與全誼公司協調。")
    services.status_update_post(item=item, user=platform_clerk, text="寒暑假由客服協助還原。")
    body = login(coordinator).get(reverse("tracking:list")).content.decode()
    assert "寒暑假由客服協助還原。" in body and "共 2 則" in body


def test_the_list_filters_closed_division_year_and_search(
    login, coordinator, imported_seed, platform
):
    TrackedItem.objects.filter(case_no="108-09-02").update(division=platform)
    client = login(coordinator)
    url = reverse("tracking:list")

    def shown(**params):
        body = client.get(url, params).content.decode()
        return sorted(
            c for c in ("108-09-01", "108-09-02", "108-09-R01", "108-09-R02") if c in body
        )

    assert shown(state="closed") == ["108-09-R01", "108-09-R02"]
    assert shown(state="", division=platform.pk) == ["108-09-02"]
    assert shown(state="", year=2019) == ["108-09-01", "108-09-02", "108-09-R01", "108-09-R02"]
    assert shown(state="", year=2018) == []
    assert shown(state="", q="OpenID") == ["108-09-R01"]
    assert shown(state="", q="108-09-02") == ["108-09-02"]


def test_the_stale_filter_shows_items_three_meetings_without_news(
    login, coordinator, imported_seed, make_meeting, platform_clerk
):
    for held_on in (date(2019, 10, 15), date(2019, 11, 12)):
        services.meeting_saved(meeting=make_meeting(held_on))
    client = login(coordinator)
    assert "108-09-01" not in client.get(reverse("tracking:list"), {"stale": "on"}).content.decode()
    services.meeting_saved(meeting=make_meeting(date(2019, 12, 10)))
    # 108-09-02 gets news after the third meeting: no longer stale
    services.status_update_post(
        item=TrackedItem.objects.get(case_no="108-09-02"), user=platform_clerk, text="有進度"
    )
    body = client.get(reverse("tracking:list"), {"stale": "on"}).content.decode()
    assert "108-09-01" in body and "久未更新" in body
    assert "108-09-02" not in body


def test_the_item_page_shows_the_timeline_of_reviews_updates_and_changes(
    login, coordinator, october, platform_clerk
):
    item = TrackedItem.objects.get(case_no="108-09-01")
    services.status_update_post(item=item, user=platform_clerk, text="簽核流程草案完成")
    body = login(coordinator).get(item.get_absolute_url()).content.decode()
    assert "開始列管" in body
    assert "108 年度 10 月份聯席會議" in body  # the review of the October meeting
    assert "簽核流程草案完成" in body
    assert "訂閱本案" in body
    assert "填報辦理情形" not in body  # read-only for coordinators
    assert "登錄決議" not in body


def test_a_closed_item_page_keeps_its_frozen_review(login, coordinator, imported_seed):
    body = login(coordinator).get(reverse("tracking:item", args=["108-09-R01"])).content.decode()
    assert "已完成招標程序" in body and "本案解列。" in body and "已解列" in body


def test_an_unknown_case_number_is_404(login, coordinator):
    assert login(coordinator).get(reverse("tracking:item", args=["108-09-99"])).status_code == 404


def test_bureau_records_a_decision_from_the_meeting_page(login, bureau, october):
    review = Review.objects.get(meeting=october, item__case_no="108-09-02")
    client = login(bureau)
    page = client.get(reverse("tracking:meeting", args=[october.pk])).content.decode()
    assert "現辦理情形已填報 <strong>0／2</strong>" in page
    response = client.post(
        reverse("tracking:decide", args=[review.pk]),
        {f"r{review.pk}-decision": "close", f"r{review.pk}-current_status": "廠商已同意。"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.resolution == "本案解列。" and review.current_status == "廠商已同意。"
    assert review.item.state == "closed"


def test_a_decision_outside_the_table_is_refused_with_a_message(login, bureau, october):
    review = Review.objects.get(meeting=october, item__case_no="108-09-02")
    response = login(bureau).post(
        reverse("tracking:decide", args=[review.pk]),
        {f"r{review.pk}-decision": "reopen"},
        follow=True,
    )
    assert "不是有效的選項" in response.content.decode() or "reopen" in response.content.decode()
    review.refresh_from_db()
    assert not review.is_decided
    with pytest.raises(services.TransitionError, match="只能選擇"):
        services.review_decide(review=review, decision="reopen")


def test_coordinators_cannot_record_decisions(login, coordinator, october):
    review = Review.objects.get(meeting=october, item__case_no="108-09-02")
    response = login(coordinator).post(
        reverse("tracking:decide", args=[review.pk]), {f"r{review.pk}-decision": "close"}
    )
    assert response.status_code == 403
    assert not Review.objects.get(pk=review.pk).is_decided


def test_bureau_creates_the_next_meeting_from_its_page(login, bureau, imported_seed):
    client = login(bureau)
    response = client.post(reverse("tracking:meeting_new"), {"held_on": "108/10/15"})
    meeting = Meeting.objects.get(held_on=date(2019, 10, 15))
    assert response.status_code == 302
    assert response["Location"] == reverse("tracking:meeting", args=[meeting.pk])
    page = client.get(response["Location"]).content.decode()
    assert "108-09-01" in page and "108-09-02" in page and "108-09-R01" not in page


def test_the_next_meeting_page_is_for_bureau_only(login, coordinator):
    response = login(coordinator).get(reverse("tracking:meeting_new"))
    assert response.status_code == 403
    assert "只有教育局人員" in response.content.decode()


def test_bureau_reassigns_the_division_with_a_change_row(login, bureau, imported_seed, platform):
    item = TrackedItem.objects.get(case_no="108-09-01")
    login(bureau).post(
        reverse("tracking:assign", args=[item.case_no]), {"division": platform.pk, "reason": "分工"}
    )
    change = item.changes.get(field="division")
    assert (change.old, change.new, change.reason, change.actor) == (
        "",
        "系統平臺組",
        "分工",
        bureau,
    )


def test_the_atom_feed_lists_updates(login, coordinator, imported_seed, platform_clerk):
    item = TrackedItem.objects.get(case_no="108-09-01")
    services.status_update_post(item=item, user=platform_clerk, text="第一次辦理情形")
    response = login(coordinator).get(reverse("tracking:feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert "<feed" in body and "第一次辦理情形" in body and "108-09-01" in body


def test_the_xlsx_export_lists_the_open_items_in_chinese(
    login, bureau, imported_seed, platform_clerk
):
    from openpyxl import load_workbook

    item = TrackedItem.objects.get(case_no="108-09-01")
    services.status_update_post(item=item, user=platform_clerk, text="最新進度")
    response = login(bureau).get(reverse("tracking:export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        "attachment; filename*=utf-8''" + quote("追蹤列管事項")
    )
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0][:3] == ("案號", "案由", "承辦")
    assert [r[0] for r in rows[1:]] == ["108-09-01", "108-09-02"]
    assert "最新進度" in rows[1]


def test_coordinators_cannot_export(login, coordinator, imported_seed):
    assert login(coordinator).get(reverse("tracking:export")).status_code == 403


def test_the_home_block_lists_the_divisions_items_missing_a_status(
    login, platform_clerk, imported_seed, platform, coordinator
):
    TrackedItem.objects.filter(state="open").update(division=platform)
    services.status_update_post(
        item=TrackedItem.objects.get(case_no="108-09-02"), user=platform_clerk, text="有進度"
    )
    body = login(platform_clerk).get("/").content.decode()
    assert "本組待填報現辦理情形" in body
    block = body.split("本組待填報現辦理情形")[1]
    assert "108-09-01" in block and "108-09-02" not in block
    coordinator_home = login(coordinator).get("/").content.decode()
    assert "列管中" in coordinator_home and "本組待填報" not in coordinator_home


# --- fixed number of queries -------------------------------------------------------------------


def _many(n, meeting, clerk):
    """n open items, each with two updates; half of them with a review at `meeting`."""
    division = clerk.memberships.get().division
    items = TrackedItem.objects.bulk_create(
        TrackedItem(
            case_no=f"107-01-{i:03d}",
            subject=f"第 {i} 個列管事項",
            division=division,
            opened_on=date(2018, 1, 9),
            last_update_at=timezone.now() - timedelta(days=i),
        )
        for i in range(1, n + 1)
    )
    StatusUpdate.objects.bulk_create(
        StatusUpdate(item=item, author=clerk, text=f"辦理情形 {k}", created_at=timezone.now())
        for item in items
        for k in (1, 2)
    )
    Review.objects.bulk_create(
        Review(item=item, meeting=meeting, previous_status="/", current_status="x")
        for item in items[::2]
    )
    return items


@pytest.mark.parametrize("n", [5, 60])
def test_the_list_makes_a_fixed_number_of_queries(
    n, login, platform_clerk, october, django_assert_max_num_queries
):
    _many(n, october, platform_clerk)
    client = login(platform_clerk)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("tracking:list"))
    assert response.status_code == 200


@pytest.mark.parametrize("updates", [1, 40])
def test_the_item_page_makes_a_fixed_number_of_queries(
    updates, login, platform_clerk, october, make_meeting, django_assert_max_num_queries
):
    item = TrackedItem.objects.get(case_no="108-09-01")
    for k in range(updates):
        services.status_update_post(item=item, user=platform_clerk, text=f"辦理情形 {k}")
    client = login(platform_clerk)
    with django_assert_max_num_queries(17):
        response = client.get(item.get_absolute_url())
    assert response.status_code == 200
    assert f"辦理情形 {updates - 1}" in response.content.decode()


def test_the_feed_shows_people_without_a_role_the_waiting_page_not_the_updates(
    login, october, platform_clerk
):
    item = TrackedItem.objects.get(case_no="108-09-01")
    services.status_update_post(item=item, user=platform_clerk, text="只給成員看的辦理情形")
    response = login(factories.UserFactory(username="nobody")).get(reverse("tracking:feed"))
    body = response.content.decode()
    assert "帳號等待核准" in body and "只給成員看的辦理情形" not in body


def test_a_decision_form_submitted_unchanged_keeps_an_update_posted_meanwhile(
    login, bureau, october, platform_clerk
):
    review = Review.objects.get(meeting=october, item__case_no="108-09-01")
    shown = review.current_status  # "" when the page was opened
    services.status_update_post(item=review.item, user=platform_clerk, text="會前剛填報的辦理情形")
    p = f"r{review.pk}-"
    login(bureau).post(
        reverse("tracking:decide", args=[review.pk]),
        {p + "decision": "continue", p + "current_status": shown, p + "status_seen": shown},
    )
    review.refresh_from_db()
    assert review.is_decided and review.current_status == "會前剛填報的辦理情形"
