"""The seed meeting of 108-09 and the people who follow its items up."""

from datetime import date

import pytest

from meetings.models import Meeting, MeetingSeries, Motion
from tests import factories
from tracking.demo import SEED_MOTIONS, SEED_NEW_TRACKED_ITEMS, SEED_TRACKED_ITEMS


@pytest.fixture
def series(db):
    return MeetingSeries.objects.create(
        name="九大分區資訊組長聯席會議", organiser="新北市政府教育局"
    )


@pytest.fixture
def make_meeting(series):
    """A meeting with published minutes (what members read), or a draft with `draft=True`."""

    def _make(held_on, title=None, motions=(), draft=False):
        meeting = Meeting.objects.create(
            series=series,
            held_on=held_on,
            title=title or f"{held_on.year - 1911} 年度 {held_on.month} 月份聯席會議",
            status=Meeting.Status.DRAFT if draft else Meeting.Status.PUBLISHED,
        )
        for position, subject, resolution in motions:
            Motion.objects.create(
                meeting=meeting,
                kind=Motion.Kind.EXTEMPORE,
                position=position,
                subject=subject,
                resolution=resolution,
            )
        return meeting

    return _make


@pytest.fixture
def seed_meeting(make_meeting):
    """108 年度 9 月份聯席會議 with its 臨時動議 (一 to 三 and 六 are not to be tracked)."""
    motions = [
        (1, "建置於局端(網韻)賽博士網站管理系統的網站原訂 108 年 12 月 31 日關閉服務，可否再次延長，提請討論。",
         "因網韻的賽博士網站管理系統自 106 年 8 月已無維運廠商，資安風險甚大，故期限仍為 108 年 12 月 31 日。"),
        (2, "有關黑快馬的 RPage 網站管理系統，何時會調查模組功能的修改建議，提請討論。",
         "本局統購給各校使用的為一套裝軟體，故本案暫不進行調查。"),
        (3, "有關建議中教科修改「新北市立高級中等學校教師每星期授課節數標準」，提請討論。",
         "本案請移請本局中教科錄案研議。"),
        *SEED_MOTIONS,
        (6, "有關均一教育平台欲取消本市單一簽入入口認證一事，提請討論。",
         "經詢問均一教育平台，如有問題可向均一教育平台反應。"),
    ]  # fmt: skip
    return make_meeting(date(2019, 9, 10), "108 年度 9 月份聯席會議", motions)


@pytest.fixture
def seed_tables():
    return {
        "tracked_items": [dict(row) for row in SEED_TRACKED_ITEMS],
        "new_tracked_items": [dict(row) for row in SEED_NEW_TRACKED_ITEMS],
    }


@pytest.fixture
def imported_seed(seed_meeting, seed_tables):
    from tracking.services import minutes_import_apply

    minutes_import_apply(meeting=seed_meeting, **seed_tables)
    return seed_meeting


@pytest.fixture
def platform(db):
    return factories.DivisionFactory(name="系統平臺組", position=2)


@pytest.fixture
def promotion(db):
    return factories.DivisionFactory(name="資訊推廣組", position=1)


@pytest.fixture
def platform_clerk(platform):
    """A clerk of 系統平臺組, the division that follows up the seed's new items."""
    return factories.bureau_staff(username="platform-clerk", division=platform)


@pytest.fixture
def promotion_clerk(promotion):
    return factories.bureau_staff(username="promotion-clerk", division=promotion)
