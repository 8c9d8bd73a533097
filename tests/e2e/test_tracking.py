"""Browser: a bureau clerk posts a 辦理情形; a subscribed coordinator is e-mailed; the timeline
shows it. The live server runs in this process with eager Celery, so mail.outbox sees the mail."""

from datetime import date

import pytest
from django.core import mail

from meetings.models import Meeting, MeetingSeries, Motion
from tests import factories
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations
from tracking import services
from tracking.demo import SEED_MOTIONS, SEED_NEW_TRACKED_ITEMS, SEED_TRACKED_ITEMS
from tracking.models import StatusUpdate, Subscription, TrackedItem

pytestmark = pytest.mark.browser


@pytest.fixture
def seed(transactional_db):
    series = MeetingSeries.objects.create(name="九大分區資訊組長聯席會議", organiser="教育局")
    meeting = Meeting.objects.create(
        series=series, held_on=date(2019, 9, 10), title="108 年度 9 月份聯席會議",
        status=Meeting.Status.PUBLISHED,  # members read only published minutes' items
    )  # fmt: skip
    for position, subject, resolution in SEED_MOTIONS:
        Motion.objects.create(
            meeting=meeting, kind="extempore", position=position, subject=subject,
            resolution=resolution,
        )  # fmt: skip
    services.minutes_import_apply(
        meeting=meeting,
        tracked_items=SEED_TRACKED_ITEMS,
        new_tracked_items=SEED_NEW_TRACKED_ITEMS,
    )
    services.meeting_create_next(held_on=date(2019, 10, 15))
    return meeting


@pytest.fixture
def people(seed):
    platform = factories.DivisionFactory(name="系統平臺組", position=2)
    TrackedItem.objects.filter(state="open").update(division=platform)
    clerk = factories.bureau_staff(username="platform-clerk", division=platform)
    school = factories.SchoolFactory(name="新店國小", code="014632")
    coordinator = factories.coordinator_of(school, username="xindian", email="it@xdes.ntpc.edu.tw")
    return clerk, coordinator


def test_an_update_by_the_division_reaches_the_subscriber_and_the_timeline(
    page, people, screenshot
):
    clerk, coordinator = people
    # the coordinator subscribes from the item page
    browser_login(page, coordinator.username)
    page.wait_for_url("**/")
    page.get_by_role("link", name="列管事項").first.click()
    screenshot(page, "tracking-list")
    assert serious_violations(page) == []
    page.get_by_role("link", name="108-09-02").click()
    page.get_by_role("button", name="訂閱本案").click()
    page.get_by_text("已訂閱 108-09-02").wait_for()
    assert Subscription.objects.filter(user=coordinator, item__case_no="108-09-02").exists()
    assert page.get_by_role("heading", name="填報辦理情形").count() == 0  # read-only
    page.get_by_role("button", name="登出").click()

    # the clerk of 系統平臺組 posts a 辦理情形
    browser_login(page, clerk.username)
    page.wait_for_url("**/")
    page.goto("/tracking/108-09-02/")
    page.get_by_role("textbox", name="辦理情形", exact=True).fill(
        "已與全誼公司協調，寒暑假由客服協助還原密碼。"
    )
    page.get_by_role("button", name="儲存辦理情形").click()
    page.get_by_text("已儲存 108-09-02 的辦理情形").wait_for()

    timeline = page.locator("ol.timeline")
    assert "已與全誼公司協調，寒暑假由客服協助還原密碼。" in timeline.inner_text()
    assert StatusUpdate.objects.filter(item__case_no="108-09-02", author=clerk).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["it@xdes.ntpc.edu.tw"]
    assert "已與全誼公司協調" in mail.outbox[0].body
    screenshot(page, "tracking-item")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "tracking-item")

    # the October meeting's table now shows the 現辦理情形 as filled for this item
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="108 年度 10 月份聯席會議").first.click()
    page.get_by_text("現辦理情形已填報 1／2 項").wait_for()
    screenshot(page, "tracking-meeting")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "tracking-meeting")
    page.goto("/tracking/")
    screenshot(page, "tracking-list")
    page.goto("/")
    page.get_by_role("heading", name="本組待填報現辦理情形").wait_for()
    screenshot(page, "tracking-home")
    assert serious_violations(page) == []


def test_a_clerk_of_another_division_sees_why_they_cannot_update(page, people, screenshot):
    other = factories.bureau_staff(
        username="promo-clerk", division=factories.DivisionFactory(name="資訊推廣組")
    )
    browser_login(page, other.username)
    page.wait_for_url("**/")
    page.goto("/tracking/108-09-01/")
    assert page.get_by_role("heading", name="填報辦理情形").count() == 0
    assert "本案的辦理情形由系統平臺組的教育局人員填報，您不在這個組別" in page.content()
