"""本週待辦 from tracked items: a clerk's items lacking 辦理情形, followed items' news, a
convener's district's items."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from meetings.models import Motion
from tracking import services
from tracking.models import StatusUpdate, TrackedItem
from tracking.todo import todos


def _todos(user):
    request = RequestFactory().get("/")
    request.user = user
    return todos(request)


@pytest.fixture
def seed_items(imported_seed, platform):
    TrackedItem.objects.filter(state="open").update(division=platform)
    return imported_seed


def test_a_clerk_is_told_to_file_the_status_of_each_of_its_divisions_items(
    seed_items, platform_clerk, promotion_clerk
):
    texts = [t.text for t in _todos(platform_clerk)]
    assert texts == ["填報 108-09-01 的現辦理情形", "填報 108-09-02 的現辦理情形"]
    assert _todos(promotion_clerk) == []  # not its division's
    services.status_update_post(
        item=TrackedItem.objects.get(case_no="108-09-01"), user=platform_clerk, text="已規劃。"
    )
    assert [t.text for t in _todos(platform_clerk)] == ["填報 108-09-02 的現辦理情形"]


def test_a_follower_sees_a_new_status_this_week_and_not_an_old_one(
    seed_items, platform_clerk, coordinator
):
    item = TrackedItem.objects.get(case_no="108-09-02")
    services.subscription_set(item=item, user=coordinator, subscribed=True)
    assert _todos(coordinator) == []
    services.status_update_post(item=item, user=platform_clerk, text="已與廠商協調。")
    (news,) = _todos(coordinator)
    assert news.text == "您訂閱的 108-09-02 有新的辦理情形"
    assert "已與廠商協調。" in news.detail and news.url.startswith("/tracking/108-09-02/")
    StatusUpdate.objects.filter(item=item).update(created_at=timezone.now() - timedelta(days=8))
    assert _todos(coordinator) == []


def test_a_convener_sees_the_open_items_its_districts_schools_proposed(
    seed_items, convener, xindian_school
):
    motion = TrackedItem.objects.get(case_no="108-09-02").origin_motion
    Motion.objects.filter(pk=motion.pk).update(proposer="新店國小")
    assert [t.text for t in _todos(convener)] == ["本分區提案的 108-09-02 仍在列管"]


def test_the_home_page_shows_the_news_once_the_reader_subscribes(
    seed_items, platform_clerk, coordinator, login
):
    item = TrackedItem.objects.get(case_no="108-09-02")
    services.status_update_post(item=item, user=platform_clerk, text="已與廠商協調。")
    client = login(coordinator)
    assert "有新的辦理情形" not in client.get("/").content.decode()  # kept in the cache now
    services.subscription_set(item=item, user=coordinator, subscribed=True)
    assert "您訂閱的 108-09-02 有新的辦理情形" in client.get("/").content.decode()
