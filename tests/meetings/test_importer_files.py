"""Minutes from the files people have: text PDFs (and PDFs that are not), Word files with real
tables and automatic numbering, HTML from web pages, an old .doc; and `import_minutes` reading
each of them with the same JSON."""

import io
import json
import zlib
from datetime import date, time

import docx
import pytest
from django.core.management import call_command
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from meetings import importer
from meetings.importer import ImportRejected
from tests.meetings.pdfs import text_pdf

MINUTES_LINES = [
    "某某國小112學年度第2次校務會議紀錄",
    "時間：中華民國112年3月15日（星期三）下午2時",
    "地點：會議室",
    "主席：王校長　紀錄：李組長",
    "提案討論",
    "案由：校慶日期，請討論。",
    "決議：照案通過。",
    "散會",
]


def read(data, name):
    return importer.parse(importer.text_from_upload(data, name))


# --- PDF -------------------------------------------------------------------------------------


def test_a_text_pdf_is_read_page_by_page_in_reading_order():
    pages = [MINUTES_LINES[:4], MINUTES_LINES[4:]]
    seen = []

    text = importer.text_from_upload(
        text_pdf(pages), "紀錄.pdf", progress=lambda d, t: seen.append((d, t))
    )
    r = importer.parse(text)

    assert text.split("\n")[:2] == MINUTES_LINES[:2]
    assert seen == [(1, 2), (2, 2)]
    assert (r.held_on, r.start_time) == (date(2023, 3, 15), time(14, 0))
    assert (r.place, r.chair, r.recorder) == ("會議室", "王校長", "李組長")
    assert [(m.subject, m.resolution) for m in r.motions] == [("校慶日期，請討論。", "照案通過。")]


@pytest.mark.parametrize(
    ("pdf", "words"),
    [
        (text_pdf([None, None]), "沒有文字層"),
        (text_pdf([MINUTES_LINES], encrypted=True), "密碼保護"),
        (text_pdf([MINUTES_LINES], declared_pages=100_000), "100000 頁"),
        (
            text_pdf([MINUTES_LINES], extra_streams=[zlib.compress(b"\0" * (70 * 1024 * 1024))]),
            "解壓縮後異常龐大",
        ),
        (b"%PDF-1.4\n garbage", "損毀"),
    ],
    ids=["scan", "encrypted", "page-bomb", "inflation-bomb", "damaged"],
)
def test_pdfs_that_cannot_be_read_get_a_clear_message(pdf, words):
    with pytest.raises(ImportRejected) as exc:
        importer.text_from_upload(pdf, "x.pdf")
    assert words in str(exc.value)


def test_an_old_binary_doc_says_how_to_save_it_as_docx():
    with pytest.raises(ImportRejected) as exc:
        importer.text_from_upload(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "紀錄.doc")
    assert "另存新檔" in str(exc.value) and ".docx" in str(exc.value)


# --- Word ------------------------------------------------------------------------------------

NUMBERING = (
    f"<w:numbering {nsdecls('w')}>"
    '<w:abstractNum w:abstractNumId="7">'
    '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="taiwaneseCountingThousand"/>'
    '<w:lvlText w:val="%1、"/></w:lvl>'
    '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="taiwaneseCountingThousand"/>'
    '<w:lvlText w:val="(%2)"/></w:lvl>'
    "</w:abstractNum>"
    '<w:num w:numId="3"><w:abstractNumId w:val="7"/></w:num>'
    "</w:numbering>"
)


def _numbered(paragraph, level):
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(
        parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="3"/></w:numPr>'
        )
    )


def _word_minutes():
    document = docx.Document()
    numbering = document.part.numbering_part.element
    for child in list(numbering):
        numbering.remove(child)
    for child in parse_xml(NUMBERING):
        numbering.append(child)
    document.add_paragraph("某某國小112學年度第2次校務會議紀錄")
    for text in (
        "時間：112年3月15日下午2時",
        "地點：會議室",
        "主席：王校長",
        "上次會議追蹤列管事項",
    ):
        _numbered(document.add_paragraph(text), 0)
    table = document.add_table(rows=4, cols=4)
    for cell, text in zip(table.rows[0].cells, ("案號", "案由", "辦理情形", "決議"), strict=True):
        cell.text = text
    table.rows[1].cells[0].text = "1"
    table.rows[1].cells[1].text = "更新校園網站"
    status = table.rows[1].cells[2]
    status.text = "1、已完成招標。"
    status.add_paragraph("2、預計6月上線。")  # a line break inside the cell
    table.rows[1].cells[3].text = "繼續列管"
    table.rows[2].cells[0].text = "2"
    table.rows[2].cells[1].text = "汰換投影機"
    merged = table.rows[2].cells[2].merge(table.rows[2].cells[3])  # one cell over two columns
    merged.text = "已完成，本案解列"  # the 決議 column is empty in this row
    table.rows[2].cells[0].merge(table.rows[3].cells[0])  # merged down: one item, two rows
    table.rows[2].cells[1].merge(table.rows[3].cells[1])
    table.rows[3].cells[2].text = "新機已驗收。"
    table.rows[3].cells[3].text = "本案解列"
    _numbered(document.add_paragraph("提案討論"), 0)
    _numbered(document.add_paragraph("校慶日期，請討論。"), 1)
    document.add_paragraph("決議：照案通過。")
    _numbered(document.add_paragraph("運動會日期，請討論。"), 1)
    document.add_paragraph("決議：延期。")
    _numbered(document.add_paragraph("散會"), 0)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_word_automatic_numbering_is_written_out():
    text = importer.text_from_upload(_word_minutes(), "紀錄.docx")

    assert "一、時間：112年3月15日下午2時" in text.split("\n")
    assert "四、上次會議追蹤列管事項" in text.split("\n")
    assert "(一)校慶日期，請討論。" in text.split("\n")
    assert "(二)運動會日期，請討論。" in text.split("\n")
    assert "六、散會" in text.split("\n")  # the table does not stop the count


def test_a_word_table_with_line_breaks_and_merged_cells_is_read_as_a_table():
    r = read(_word_minutes(), "紀錄.docx")

    assert [
        (i["case_no"], i["subject"], i["current_status"], i["resolution"]) for i in r.tracked_items
    ] == [
        ("1", "更新校園網站", "1、已完成招標。\n2、預計6月上線。", "繼續列管"),
        ("2", "汰換投影機", "已完成，本案解列新機已驗收。", "本案解列"),
    ]
    assert [(m.subject, m.resolution) for m in r.motions] == [
        ("校慶日期，請討論。", "照案通過。"),
        ("運動會日期，請討論。", "延期。"),
    ]
    assert (r.held_on, r.place, r.chair) == (date(2023, 3, 15), "會議室", "王校長")


# --- HTML ------------------------------------------------------------------------------------


def test_html_from_a_web_page_is_read_as_its_text():
    page = (
        "<!DOCTYPE html><html><head><style>p{color:red}</style><script>var x='時間：';</script>"
        "</head><body><h1>某某國小校務會議紀錄</h1><p>時間：112年3月15日下午2時<br />地點：會議室</p>"
        "<p>主席：王校長&nbsp;&nbsp;紀錄：李組長</p><h2>上次會議追蹤列管事項</h2>"
        "<table><tr><th>案號</th><th>案由</th><th>決議</th></tr>"
        "<tr><td>1</td><td>更新校園網站</td><td>繼續列管</td></tr></table>"
        "<h2>提案討論</h2><p>案由：校慶日期，請討論。</p><p>決議：照案通過。</p><p>散會</p></body></html>"
    )

    r = read(page.encode(), "紀錄.html")

    assert (r.held_on, r.place, r.chair, r.recorder) == (
        date(2023, 3, 15),
        "會議室",
        "王校長",
        "李組長",
    )
    assert [(i["subject"], i["resolution"]) for i in r.tracked_items] == [
        ("更新校園網站", "繼續列管")
    ]
    assert [(m.subject, m.resolution) for m in r.motions] == [("校慶日期，請討論。", "照案通過。")]


# --- the command -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pdf", "docx", "html", "txt"])
def test_import_minutes_dry_run_json_reads_every_kind_of_file(kind, tmp_path, capsys):
    data = {
        "pdf": lambda: text_pdf([MINUTES_LINES]),
        "docx": _word_minutes,
        "html": lambda: ("<html><body>" + "".join(f"<p>{x}</p>" for x in MINUTES_LINES)).encode(),
        "txt": lambda: "\n".join(MINUTES_LINES).encode(),
    }[kind]()
    path = tmp_path / f"紀錄.{kind}"
    path.write_bytes(data)

    call_command("import_minutes", str(path), "--dry-run", "--json")
    result = json.loads(capsys.readouterr().out)

    assert set(result) == {
        "title", "held_on", "start_time", "place", "chair", "recorder", "adjourned_time",
        "top_sections", "motions", "tracked_items", "new_tracked_items", "warnings",
    }  # fmt: skip
    assert result["held_on"] == "2023-03-15"
    assert result["motions"][0]["subject"] == ("校慶日期，請討論。")
    assert all(set(w) == {"line", "message"} for w in result["warnings"])
