"""The importer reads minutes the way they arrive: the seed, and the variations real documents
show after PDF or Word extraction."""

import io
import re
import zipfile
from datetime import date, time

import pytest

from meetings import importer
from meetings.importer import ImportRejected

# --- the seed --------------------------------------------------------------------------------


@pytest.fixture
def seed(seed_text):
    return importer.parse(seed_text)


def test_the_seed_header(seed):
    assert seed.organiser == "新北市九大分區資訊組長專業社群召集學校"
    assert seed.title == "108 年度 9 月份聯席會議"
    assert seed.held_on == date(2019, 9, 10)
    assert seed.start_time == time(10, 0)
    assert seed.place == "新北市教育研究發展中心 3 樓網管會議室"
    assert (seed.chair, seed.recorder) == ("吳科長佳珊", "吳安絜")
    assert (seed.attendance_note, seed.chair_remarks) == ("詳簽到表", "略")
    assert seed.adjourned_time == time(12, 30)


def test_the_seed_has_every_section_in_order(seed):
    assert [h for _k, h, _l in seed.top_sections] == [
        "會議時間", "會議地點", "主持人", "出席人員", "主席致詞", "上次會議追蹤列管事項",
        "新追蹤列管事項", "業務報告", "提案討論", "臨時動議", "散會",
    ]  # fmt: skip


def test_the_seed_has_one_proposal_and_six_extempore_motions_each_with_a_resolution(seed):
    kinds = [m.kind for m in seed.motions]
    assert kinds == ["proposal"] + ["extempore"] * 6
    assert all(m.resolution for m in seed.motions)
    assert seed.motions[0].resolution.startswith("本案請板橋分區再行於分區會議討論")
    assert "黑快馬的 RPage" in seed.motions[2].subject


def test_a_motion_cut_by_a_page_break_is_joined_without_a_gap(seed):
    assert "每星期授課節數標準」，新增資訊特別協行節數" in seed.motions[3].subject


def test_the_previous_tracked_items_table_and_its_row_broken_across_a_page(seed):
    assert [i["case_no"] for i in seed.tracked_items] == ["1", "2"]
    assert all(i["resolution"] == "本案解列。" for i in seed.tracked_items)
    second = seed.tracked_items[1]
    assert second["previous_status"] == "/"
    assert second["current_status"].endswith("皆可透過線上學習取得時數。")
    assert set(second) == {"case_no", "subject", "previous_status", "current_status", "resolution"}


def test_the_new_tracked_items(seed):
    assert [(i["case_no"], i["subject"][:6]) for i in seed.new_tracked_items] == [
        ("1", "為防範學生資"), ("2", "有關校務行政"),
    ]  # fmt: skip


def _tree(items):
    return [(i.marker, _tree(i.children)) for i in items]


def test_the_business_report_tree(seed):
    assert [d.name for d in seed.divisions] == ["資訊推廣組", "系統平臺組", "網管資安組"]
    promo, platform, netsec = seed.divisions
    assert len(promo.items) == 11
    fourth = promo.items[3]
    assert fourth.text == "資訊組長相關實體研習轉知各校事項"
    assert _tree(fourth.children) == [
        ("1、", []), ("2、", [("(1)", []), ("(2)", []), ("(3)", []), ("(4)", []), ("(5)", [])]),
    ]  # fmt: skip
    assert [i.marker for i in platform.items] == ["(一)", "(二)", "(三)", "(四)"]
    assert len(platform.items[3].children) == 5
    assert len(netsec.items) == 6


def test_markdown_debris_is_not_content(seed):
    first = seed.divisions[0].items[0].text
    assert "(http://pts.ntpc.edu.tw/app/)" in first  # <…> autolink brackets removed
    assert not first.startswith("-")


def test_a_paragraph_after_a_full_stop_stays_a_paragraph_and_a_cut_sentence_is_joined(seed):
    project = seed.divisions[2].items[2]
    first, fourth = project.children[0], project.children[3]
    assert first.text.split("\n")[1].startswith("各校改善單放置雲端")
    assert "Class 為載具無線投影整合隱藏使用" in fourth.text


def test_the_survey_after_adjournment_is_kept_and_reported(seed):
    kept = seed.notes["adjourn"]
    assert kept[0] == "新北市政府教育局辦理109年度寒假青少年休閒育樂活動開辦調查表"
    assert kept[-1] == "(109年1月23日至1月29日除夕及春假)"
    assert [w.line for w in seed.warnings] == [135]


def _blob(result):
    parts = [result.organiser, result.title, result.place, result.chair, result.recorder,
             result.attendance_note, result.chair_remarks]  # fmt: skip
    for division in result.divisions:
        parts.append(division.name)
        stack = list(division.items)
        while stack:
            item = stack.pop()
            parts.append(item.text)
            stack += item.children
    for m in result.motions:
        parts += [m.subject, m.explanation, m.resolution, m.proposer]
    for row in result.tracked_items + result.new_tracked_items:
        parts += row.values()
    for lines in result.notes.values():
        parts += lines
    return re.sub(r"\s+", "", "".join(p or "" for p in parts))


_LABEL = re.compile(
    r"^(?:[壹貳參肆伍陸柒捌玖拾]+、)?(?:會議時間|會議地點|主持人|紀錄|出席人員|主席致詞|"
    r"上次會議追蹤列管事項|新追蹤列管事項|業務報告|提案討論|臨時動議|散會)?[:：]?|"
    r"^(?:案由[一二三四五六]?|決議)[:：]|^[(（][一二三四五六七八九十]+[)）]|^\d+、|^[(（]\d+[)）]|^[一二三]、"
)


def test_no_text_of_the_seed_is_dropped(seed_text, seed):
    """Every line's content (minus its label or number, and the debris) is somewhere in the
    result – in a field, an item, a motion, a table or a kept note."""
    blob = _blob(seed)
    for number, line in enumerate(seed_text.splitlines(), start=1):
        content = re.sub(r"^\s*-\s+", "", line).strip()
        content = re.sub(r"<(https?://[^>]+)>", r"\1", content)
        if not content or set(content) <= set("-\t "):
            continue
        if number in (7, 133):  # the date and the adjournment time are parsed into values
            continue
        content = _LABEL.sub("", content)
        content = re.sub(r"會議紀錄$", "會議", content)  # the title is stored without 紀錄
        for cell in content.split("\t"):
            cell = re.sub(r"\s+", "", cell).rstrip("：:")
            if cell in ("案號", "案由", "前次辦理情形", "現辦理情形", "決議", ""):
                continue
            cell = re.sub(r"^(\d+)\.$", r"\1", cell)
            assert cell in blob, f"line {number}: {cell[:30]}"


# --- what real documents look like ---------------------------------------------------------


MINIMAL = """\
新北市九大分區資訊組長專業社群召集學校
{title}
{time_line}
貳、會議地點：板橋國小會議室
{chair_line}
肆、出席人員：詳簽到表
伍、主席致詞：略
捌、業務報告：
一、資訊推廣組：
(一)第一項。
拾、臨時動議：{extempore}
拾壹、散會
"""


def _parse(**kw):
    values = {
        "title": "109 年度 3 月份聯席會議紀錄",
        "time_line": "壹、會議時間：109 年 3 月 10 日（星期二）下午 2 時",
        "chair_line": "參、主持人：王科長\n紀錄：李小明",
        "extempore": "無",
    }
    values.update(kw)
    return importer.parse(MINIMAL.format(**values))


@pytest.mark.parametrize(
    ("line", "held_on", "start"),
    [
        ("壹、會議時間：109 年 3 月 10 日（星期二）下午 2 時", date(2020, 3, 10), time(14, 0)),
        ("壹、會議時間:109年3月10日(星期二)14:30", date(2020, 3, 10), time(14, 30)),
        ("會議時間：一百零九年三月十日下午二時三十分", date(2020, 3, 10), time(14, 30)),
        ("壹、會議時間：109/3/10 上午 9:00~12:00", date(2020, 3, 10), time(9, 0)),
        ("壹、時間：２０２０－０３－１０　１４：００", date(2020, 3, 10), time(14, 0)),
        ("壹、會議時間：109 年 3 月 10 日", date(2020, 3, 10), None),
    ],
)
def test_dates_and_times_in_their_many_forms(line, held_on, start):
    result = _parse(time_line=line)
    assert (result.held_on, result.start_time) == (held_on, start)


@pytest.mark.parametrize(
    "chair_line",
    ["參、主 席：王科長\n紀　錄：李小明", "主持人:王科長\n記錄:李小明", "參、主席：王科長　　紀錄：李小明",
     "參、主　持　人：王科長\n記 錄：李小明"],
)  # fmt: skip
def test_spaced_and_alternative_labels_for_chair_and_recorder(chair_line):
    result = _parse(chair_line=chair_line)
    assert (result.chair, result.recorder) == ("王科長", "李小明")


def test_headings_without_numbering_are_recognised():
    text = MINIMAL.replace("貳、", "").replace("肆、", "").replace("捌、", "").replace("拾壹、", "")
    result = importer.parse(text.format(title="109 年度 3 月份聯席會議紀錄",
                                        time_line="會議時間：109 年 3 月 10 日上午 10 時",
                                        chair_line="主持人：王科長", extempore="無"))  # fmt: skip
    keys = [k for k, _h, _l in result.top_sections]
    assert keys == [
        "time",
        "place",
        "chair",
        "attendance",
        "remarks",
        "reports",
        "extempore",
        "adjourn",
    ]


def test_empty_extempore_section_has_no_motions_and_no_warning():
    result = _parse()
    assert result.motions == [] and result.warnings == []


def test_a_heading_word_inside_a_report_is_text_not_a_heading():
    text = MINIMAL.replace("(一)第一項。", "(一)第一項：\n時間：每週三。\n出席人員請準時。")
    result = importer.parse(text.format(**{
        "title": "會議紀錄", "time_line": "會議時間：109年3月10日", "chair_line": "主席：王",
        "extempore": "無"}))  # fmt: skip
    item = result.divisions[0].items[0]
    assert "時間：每週三。" in item.text and "出席人員請準時。" in item.text


def test_unplaced_text_is_kept_in_the_nearest_section_with_its_line_number():
    text = MINIMAL.replace("伍、主席致詞：略", "伍、主席致詞：略\n")
    text = text.replace(
        "拾、臨時動議：{extempore}",
        "拾、臨時動議：\n請大家踴躍發言\n案由：甲案。\n決議：照案通過。",
    )
    result = importer.parse(text.format(title="會議紀錄", time_line="會議時間：109年3月10日",
                                        chair_line="主席：王", extempore=""))  # fmt: skip
    assert result.notes["extempore"] == ["請大家踴躍發言"]
    line = (
        text.format(title="", time_line="", chair_line="x", extempore="")
        .splitlines()
        .index("請大家踴躍發言")
        + 1
    )
    assert [(w.line, "臨時動議" in w.message) for w in result.warnings] == [(line, True)]
    assert result.motions[0].subject == "甲案。"


def test_truncated_text_is_imported_with_a_warning():
    text = (
        MINIMAL.split("拾、臨時動議")[0].format(
            title="會議紀錄",
            time_line="會議時間：109年3月10日",
            chair_line="主席：王",
            extempore="",
        )
        + "拾、臨時動議：\n案由：有關資安通報流程，提請"
    )
    result = importer.parse(text)
    assert result.motions[0].subject == "有關資安通報流程，提請"
    messages = " ".join(w.message for w in result.warnings)
    assert "散會" in messages and "截斷" in messages and "沒有決議" in messages


def test_a_tab_flattened_table_whose_row_continues_after_a_page_break():
    text = MINIMAL.replace("捌、業務報告：", "陸、上次會議追蹤列管事項：\n案號\t案由\t前次辦理情形\t現辦理情形\t決議\n"
                           "1\t甲\t乙\t丙的前半\t持續列管。\n\n\t\t\t後半。\t\n捌、業務報告：")  # fmt: skip
    result = importer.parse(text.format(title="會議紀錄", time_line="會議時間：109年3月10日",
                                        chair_line="主席：王", extempore="無"))  # fmt: skip
    assert result.tracked_items == [{"case_no": "1", "subject": "甲", "previous_status": "乙",
                                     "current_status": "丙的前半後半。", "resolution": "持續列管。"}]  # fmt: skip


def test_json_shape_is_exactly_the_issues(seed):
    data = seed.as_json()
    assert list(data) == ["title", "held_on", "start_time", "place", "chair", "recorder",
                          "adjourned_time", "top_sections", "motions", "tracked_items",
                          "new_tracked_items", "warnings"]  # fmt: skip
    assert data["held_on"] == "2019-09-10" and data["start_time"] == "10:00"
    assert data["adjourned_time"] == "12:30"
    assert set(data["motions"][0]) == {"kind", "subject", "resolution"}
    assert set(data["new_tracked_items"][0]) == {"case_no", "subject"}
    # page: null for text without pages (a PDF's warnings name the page and its line)
    assert data["warnings"][0] == {"line": 135, "page": None, "message": seed.warnings[0].message}


def test_null_where_the_document_does_not_say():
    data = importer.parse("某某會議紀錄\n業務報告：\n一、資訊推廣組：\n(一)內容。").as_json()
    assert data["held_on"] is None and data["place"] is None and data["adjourned_time"] is None


# --- bad input ---------------------------------------------------------------------------------


def _zip(names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "空的"),
        (b"   \n\n ", "空的"),
        (bytes(range(256)) * 10, "二進位"),
        (_zip(["xl/workbook.xml", "[Content_Types].xml"]), "試算表"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "另存新檔"),
        (b"%PDF-1.4 ...", "PDF"),
        (b"a" * (20 * 1024 * 1024), "太大"),
        (_zip(["hello.txt"]), "壓縮檔"),
    ],
)
def test_files_that_are_not_minutes_are_refused_in_chinese(data, words):
    with pytest.raises(ImportRejected) as exc:
        importer.parse(importer.text_from_upload(data, "x"))
    assert words in str(exc.value)


@pytest.mark.parametrize("text", ["", "   ", "a,b,c\n1,2,3\n", "hello world"])
def test_text_that_is_not_minutes_is_refused(text):
    with pytest.raises(ImportRejected):
        importer.parse(text)


def test_big5_text_is_read():
    text = "某某會議紀錄\n會議時間：109年3月10日\n散會"
    assert importer.text_from_upload(text.encode("cp950")) == text


def test_a_docx_is_read_with_its_tables_as_tab_separated_rows(seed_text):
    import docx

    document = docx.Document()
    document.add_paragraph("108 年度 9 月份聯席會議紀錄")
    document.add_paragraph("壹、會議時間：108 年 9 月 10 日（星期二）上午 10 時")
    document.add_paragraph("柒、新追蹤列管事項")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(
        table.rows[0].cells + table.rows[1].cells, ["案號", "案由", "1", "甲案"], strict=True
    ):
        cell.text = text
    document.add_paragraph("拾壹、散會(下午 12:30)")
    buffer = io.BytesIO()
    document.save(buffer)
    result = importer.parse(importer.text_from_upload(buffer.getvalue(), "m.docx"))
    assert result.new_tracked_items == [{"case_no": "1", "subject": "甲案"}]
    assert result.adjourned_time == time(12, 30)
