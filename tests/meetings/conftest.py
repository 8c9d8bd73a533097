"""Fixtures for the minutes: the bureau's divisions, the seed text, the seed imported."""

from pathlib import Path

import pytest

from meetings import services
from tests import factories

SEED = Path(__file__).resolve().parents[2] / "meetings" / "seed" / "108-09.txt"


@pytest.fixture
def seed_text():
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def divisions(db):
    return [
        factories.DivisionFactory(name=name, position=i)
        for i, name in enumerate(("資訊推廣組", "系統平臺組", "網管資安組"), start=1)
    ]


@pytest.fixture
def tracking_calls(monkeypatch):
    """Stand in for tracking/ (another engineer's app): record what the importer hands over
    and give it back to the renderer through minutes_tables, as tracking will."""
    import tracking.selectors
    import tracking.services

    calls = {"apply": [], "saved": []}

    def apply(*, meeting, tracked_items, new_tracked_items, user=None):
        calls["apply"].append(
            {"meeting": meeting.pk, "tracked": tracked_items, "new": new_tracked_items}
        )

    def saved(*, meeting, user=None):
        calls["saved"].append(meeting.pk)

    def tables(meeting):
        for call in calls["apply"]:
            if call["meeting"] == meeting.pk:
                return {"previous": call["tracked"], "new": call["new"]}
        return {"previous": [], "new": []}

    monkeypatch.setattr(tracking.services, "minutes_import_apply", apply)
    monkeypatch.setattr(tracking.services, "meeting_saved", saved)
    monkeypatch.setattr(tracking.selectors, "minutes_tables", tables)
    return calls


@pytest.fixture
def seed_meeting(divisions, bureau, seed_text, tracking_calls):
    """The seed minutes imported and published by a bureau clerk."""
    return services.meeting_import(text=seed_text, user=bureau, publish=True)


DRAFT_TEXT = (
    "新北市九大分區資訊組長專業社群召集學校\n109 年度 3 月份聯席會議紀錄\n"
    "壹、會議時間：109 年 3 月 10 日（星期二）下午 2 時\n貳、會議地點：板橋國小\n"
    "參、主持人：王科長\n紀錄：李小明\n捌、業務報告：\n一、資訊推廣組：\n(一)甲項。\n(二)乙項。\n"
    "(三)丙項。\n拾、臨時動議：\n案由一：甲案。\n決議：通過。\n案由二：乙案。\n決議：再議。\n拾壹、散會\n"
)


@pytest.fixture
def draft_meeting(divisions, bureau, tracking_calls):
    """A small draft (109 年 3 月): three items of 資訊推廣組, two extempore motions."""
    return services.meeting_import(text=DRAFT_TEXT, user=bureau)
