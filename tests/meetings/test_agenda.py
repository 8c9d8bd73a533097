"""The agenda (議程) is generated: the open tracked items carried into the meeting (from
tracking/, through meetings' hooks) with their latest 辦理情形, a 業務報告 slot per division that
its own staff fill, the accepted proposals in order, 臨時動議 left open; in the official
numbering, and as a .docx."""

import io
from datetime import date, time

import docx
import pytest
from django.urls import reverse

from meetings import agenda, convening
from meetings.models import ReportItem
from tests import factories


@pytest.fixture
def october(seed_meeting, bureau):
    """The meeting after the seed's 108 年 9 月: tracking carries the seed's open items into it."""
    meeting = convening.meeting_plan(
        user=bureau, title="108 年度 10 月份聯席會議", held_on=date(2019, 10, 8),
        start_time=time(10, 0), place="研發中心",
    )  # fmt: skip
    return meeting


def section(meeting, key):
    return next(s for s in agenda.agenda_of(meeting) if s.key == key)


def test_the_open_tracked_items_come_with_their_latest_status(october):
    lines = section(october, "previous").lines
    assert lines and lines[0].startswith("一、108-09-")
    assert any("（最近辦理情形：" in line for line in lines)
    assert all(line[0] in "一二三四五六七八九十" for line in lines)


def test_each_division_fills_only_its_own_report_slot(login, october, divisions):
    promotion, platform, _ = divisions
    clerk = factories.bureau_staff(username="promotion-clerk", division=promotion)
    lines = section(october, "reports").lines
    assert lines[:2] == ["一、資訊推廣組", "　（尚未填寫）"]
    client = login(clerk)
    url = reverse("meetings:division_reports", args=[october.pk])
    page = client.get(url).content.decode()
    assert page.count("加入") == 1 and "加入資訊推廣組的業務報告" in page
    client.post(url, {"division": promotion.pk, "text": "請各校更新網站。\n\n請於 10/31 前回報。"})
    assert list(
        ReportItem.objects.filter(meeting=october, division=promotion).values_list(
            "text", flat=True
        )
    ) == ["請各校更新網站。", "請於 10/31 前回報。"]
    assert client.post(url, {"division": platform.pk, "text": "越權"}).status_code == 403
    assert not ReportItem.objects.filter(meeting=october, division=platform).exists()
    lines = section(october, "reports").lines
    assert lines[:3] == ["一、資訊推廣組", "　(一)請各校更新網站。", "　(二)請於 10/31 前回報。"]
    assert lines[3:5] == ["二、系統平臺組", "　（尚未填寫）"]


def test_the_agenda_keeps_the_official_order_and_exports_to_word(
    login, bureau, october, coordinator
):
    headings = [s.heading for s in agenda.agenda_of(october)]
    assert headings == ["壹、主席致詞", "貳、上次會議追蹤列管事項", "參、業務報告", "肆、提案討論",
                        "伍、臨時動議", "陸、散會"]  # fmt: skip
    url = reverse("meetings:agenda_docx", args=[october.pk])
    assert login(coordinator).get(url).status_code == 403  # no notice yet
    response = login(bureau).get(url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    text = [p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs]
    assert text[0] == "108 年度 10 月份聯席會議議程"
    assert "會議時間：民國 108 年 10 月 8 日（星期二）上午 10 時" in text
    assert "參、業務報告" in text and "肆、提案討論" in text
