"""Case numbers as the minutes print them (the seed's 「1.」 and 「1」) with the portal's 案號
beside them; the item's history strictly in time order; 已列管 in words."""

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from tracking import selectors, services
from tracking.models import Change, TrackedItem


def body(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_where_the_minutes_number_each_item(login, coordinator, imported_seed):
    html = body(login(coordinator), reverse("tracking:list") + "?state=")
    assert '108-09-01</a><span class="minutes-ref">108/9/10 紀錄 1</span>' in html
    assert '108-09-R01</a><span class="minutes-ref">108/9/10 紀錄 1.</span>' in html


def test_the_item_page_names_the_table_and_its_row(login, coordinator, imported_seed):
    html = body(login(coordinator), reverse("tracking:item", args=["108-09-R02"]))
    assert "108 年度 9 月份聯席會議紀錄・上次會議追蹤列管事項 2." in html
    html = body(login(coordinator), reverse("tracking:item", args=["108-09-02"]))
    assert "新追蹤列管事項 2" in html


def test_the_meeting_tables_print_the_row_number_beside_the_case_number(
    login, coordinator, imported_seed
):
    html = body(login(coordinator), reverse("tracking:meeting", args=[imported_seed.pk]))
    assert '<span class="minutes-no">1.</span> <a href="/tracking/108-09-R01/"' in html
    assert '<span class="minutes-no">2</span> <a href="/tracking/108-09-02/"' in html


def test_a_drafts_rows_number_items_only_for_those_who_read_drafts(
    coordinator, bureau, imported_seed, make_meeting
):
    october = make_meeting(date(2019, 10, 15), draft=True)
    services.meeting_saved(meeting=october)  # carries 108-09-01 and -02 into the draft
    items = list(TrackedItem.objects.filter(case_no__in=["108-09-01", "108-09-02"]))
    for_coordinator = selectors.minutes_numbers(items, coordinator)
    for_bureau = selectors.minutes_numbers(items, bureau)
    assert {n.meeting for n in for_coordinator.values()} == {imported_seed}
    assert {(n.meeting, n.table) for n in for_bureau.values()} == {(october, "previous")}
    assert sorted(n.number for n in for_bureau.values()) == ["1.", "2."]


def test_a_closed_item_says_nothing_of_being_newly_tracked(login, coordinator, imported_seed):
    html = body(login(coordinator), reverse("tracking:item", args=["108-09-R01"]))
    assert "新列管" not in html and "解列日期" in html
    html = body(login(coordinator), reverse("tracking:item", args=["108-09-01"]))
    assert "新列管，尚未經下次會議審議" in html and "0 次會議" not in html


def test_the_history_is_in_time_order_whenever_a_meeting_was_typed_in(
    login, coordinator, imported_seed, platform, platform_clerk
):
    """The seed was imported years after its meeting: its opening, review and decision sit on
    the meeting's day (opening, review, decision); the 承辦 set before a 辦理情形 comes before it."""
    reviewed = TrackedItem.objects.get(case_no="108-09-R01")
    kinds = [
        e["kind"] if e["kind"] != "change" else ("opened" if not e["change"].old else "decided")
        for e in selectors.timeline(selectors.item_for_page(reviewed.case_no, coordinator))
    ]
    assert kinds == ["opened", "review", "decided"]

    item = TrackedItem.objects.get(case_no="108-09-01")
    services.item_assign(item=item, division=platform, user=platform_clerk, reason="分工")
    Change.objects.filter(item=item, field="division").update(
        at=timezone.now() - timedelta(minutes=5)
    )
    services.status_update_post(item=item, user=platform_clerk, text="已請廠商評估。")
    entries = selectors.timeline(selectors.item_for_page(item.case_no, coordinator))
    order = [
        e["kind"] + (":" + e["change"].field if e["kind"] == "change" else "") for e in entries
    ]
    assert order == ["change:state", "change:division", "update"]
    moments = [e["sort"] for e in entries]
    assert moments == sorted(moments)
