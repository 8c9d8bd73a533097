"""Fixtures for the minutes: the bureau's divisions, the seed text, the seed imported (through
the real tracking app, which reads its 列管事項 tables)."""

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
def seed_meeting(divisions, bureau, seed_text):
    """The seed minutes imported and published by a bureau clerk."""
    return services.meeting_import(text=seed_text, user=bureau, publish=True)


DRAFT_TEXT = (
    "新北市九大分區資訊組長專業社群召集學校\n109 年度 3 月份聯席會議紀錄\n"
    "壹、會議時間：109 年 3 月 10 日（星期二）下午 2 時\n貳、會議地點：板橋國小\n"
    "參、主持人：王科長\n紀錄：李小明\n捌、業務報告：\n一、資訊推廣組：\n(一)甲項。\n(二)乙項。\n"
    "(三)丙項。\n拾、臨時動議：\n案由一：甲案。\n決議：通過。\n案由二：乙案。\n決議：再議。\n拾壹、散會\n"
)


@pytest.fixture
def draft_meeting(divisions, bureau):
    """A small draft (109 年 3 月): three items of 資訊推廣組, two extempore motions."""
    return services.meeting_import(text=DRAFT_TEXT, user=bureau)
