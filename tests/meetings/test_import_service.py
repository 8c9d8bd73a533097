"""meeting_import: validate everything, then save everything in one transaction."""

import pytest

from meetings import hooks, importer, rendering, selectors, services
from meetings.models import Meeting, Motion, ReportItem, SearchEntry
from portal.models import AuditEvent
from tracking.models import Review, TrackedItem


def test_the_seed_is_saved_with_its_tree_motions_and_tables(seed_meeting):
    m = seed_meeting
    assert (m.title, m.chair, m.recorder, m.is_published) == (
        "108 年度 9 月份聯席會議",
        "吳科長佳珊",
        "吳安絜",
        True,
    )
    assert m.series.organiser == "新北市九大分區資訊組長專業社群召集學校"
    assert ReportItem.objects.filter(meeting=m).count() == 39
    assert ReportItem.objects.filter(meeting=m, parent__isnull=True).count() == 21
    assert list(Motion.objects.filter(meeting=m).values_list("kind", flat=True)) == (
        ["extempore"] * 6 + ["proposal"]
    )
    # 陸 and 柒 went to tracking/: two reviewed items closed by 本案解列, two new items
    reviews = Review.objects.filter(meeting=m).order_by("position")
    assert [r.resolution for r in reviews] == ["本案解列。", "本案解列。"]
    assert {r.item.state for r in reviews} == {TrackedItem.State.CLOSED}
    assert TrackedItem.objects.filter(origin_meeting=m).count() == 2
    assert m.section_notes["adjourn"][0].startswith("新北市政府教育局辦理109年度寒假")
    assert m.import_warnings == [
        {"line": 135, "where": "第 135 行", "message": m.import_warnings[0]["message"]}
    ]
    assert AuditEvent.objects.filter(action="meetings.imported").count() == 1
    assert SearchEntry.objects.filter(meeting=m, published=True).count() > 40


def test_nested_items_keep_their_parents_and_order(seed_meeting):
    reason = ReportItem.objects.get(meeting=seed_meeting, text__startswith="錄影檔沒有進行後製")
    assert reason.position == 2
    assert reason.parent.text.startswith("日後將不提供研習錄影檔")
    assert reason.parent.parent.text == "資訊組長相關實體研習轉知各校事項"
    assert reason.division.name == "資訊推廣組"


def test_the_same_meeting_is_not_imported_twice(seed_meeting, seed_text, bureau):
    with pytest.raises(services.MeetingImportError) as exc:
        services.meeting_import(text=seed_text, user=bureau)
    assert "不重複匯入" in str(exc.value)
    assert Meeting.objects.count() == 1


def test_an_unknown_division_is_refused_naming_the_line(divisions, bureau):
    text = "某會議紀錄\n會議時間：109年3月10日\n業務報告：\n四、教育科技組：\n(一)內容。\n散會"
    with pytest.raises(services.MeetingImportError) as exc:
        services.meeting_import(text=text, user=bureau)
    assert "第 4 行" in str(exc.value) and "教育科技組" in str(exc.value)
    assert Meeting.objects.count() == 0


def test_a_failure_inside_the_transaction_saves_nothing(seed_text, divisions, bureau, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("an import step failed")

    # after tracking's own step, which has opened the items of the tables by then
    monkeypatch.setattr(hooks, "_import_steps", [*hooks._import_steps, broken])
    with pytest.raises(RuntimeError):
        services.meeting_import(text=seed_text, user=bureau)
    assert (Meeting.objects.count(), ReportItem.objects.count(), Motion.objects.count()) == (
        0,
        0,
        0,
    )
    assert (TrackedItem.objects.count(), Review.objects.count()) == (0, 0)


@pytest.mark.parametrize("text", ["", "\x00\x01binary", "a,b\n1,2"])
def test_bad_input_saves_nothing(text, divisions, bureau):
    with pytest.raises(importer.ImportRejected):
        services.meeting_import(text=text, user=bureau)
    assert Meeting.objects.count() == 0


def test_a_meeting_without_a_date_is_not_saved(divisions, bureau):
    with pytest.raises(services.MeetingImportError) as exc:
        services.meeting_import(
            text="某會議紀錄\n業務報告：\n一、資訊推廣組：\n(一)內容。", user=bureau
        )
    assert "會議日期" in str(exc.value)


def test_a_refusal_from_tracking_becomes_an_import_problem_and_saves_nothing(
    seed_text, divisions, bureau
):
    # 併案 must name the case it merges into: tracking/ refuses the row, naming it
    text = seed_text.replace("本案解列。", "併案。", 1)
    with pytest.raises(services.MeetingImportError) as exc:
        services.meeting_import(text=text, user=bureau)
    assert exc.value.problems == [
        "上次會議追蹤列管事項第 1 列「決議」：併案須寫明併入的案號（例如 108-09-01）。"
    ]
    assert (Meeting.objects.count(), TrackedItem.objects.count()) == (0, 0)


def test_the_seed_imports_through_the_real_tracking_app(seed_text, divisions, bureau):
    """The tables go to tracking/ and come back through its minutes_tables."""
    meeting = services.meeting_import(text=seed_text, user=bureau, publish=True)
    text = rendering.as_text(selectors.meeting_document(meeting))
    assert "柒、新追蹤列管事項" in text and "拾壹、散會(下午 12:30)" in text
