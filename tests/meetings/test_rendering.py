"""The minutes read like the original: the plain-text export against the seed, line by line."""

import io
import re

import pytest

from meetings import rendering, selectors


def seed_content_lines(seed_text):
    """The seed's lines with only page-break and extraction debris taken out:
    - blank lines, the "--\t--" rows and the markdown "- " bullets / <…> around links;
    - a sentence cut by a page break (a line not ending in a closing punctuation mark, followed
      after the break by its continuation) is one line;
    - a table row continued after a page break (leading empty cells) is merged cell by cell;
    The letterhead (first two lines) and what follows 散會 (an attached form) are taken line by
    line. Nothing else is changed: every other character must match the export."""
    lines = []
    adjourned = False
    for raw in seed_text.splitlines():
        line = re.sub(r"^\s*-\s+", "", raw).rstrip()
        line = re.sub(r"<(https?://[^>]+)>", r"\1", line)
        if not line.strip() or set(line) <= set("-\t "):
            continue
        if "\t" in line:
            cells = [c.strip() for c in line.split("\t")]
            if cells[0] == "" and lines and "\t" in lines[-1]:
                previous = lines[-1].split("\t")
                for i, cell in enumerate(cells):
                    if cell:
                        previous[i] += cell
                lines[-1] = "\t".join(previous)
                continue
            while cells and cells[-1] == "" and len(cells) > 2:
                cells.pop()
            line = "\t".join(cells)
        else:
            line = line.strip()
            if (
                len(lines) >= 2
                and not adjourned
                and "\t" not in lines[-1]
                and not lines[-1].endswith(tuple("。；：！？」）)"))
            ):
                if not re.match(
                    r"^(案由|決議|紀錄|[壹貳參肆伍陸柒捌玖拾]+、|\(|[一二三]、|\d+、)", line
                ):
                    lines[-1] += line
                    continue
        lines.append(line)
        adjourned = adjourned or line.startswith("拾壹、散會")
    return lines


def export_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


# the row's number as the seed prints it, tracking/'s case number beside it: 1.（108-09-R01）
CASE_NO = re.compile(r"^(\d+\.?)（(\d{3}-\d{2}-R?\d{2})）\t")


def test_the_plain_text_export_matches_the_seed_line_by_line(seed_meeting, seed_text):
    document = selectors.meeting_document(seed_meeting)
    exported = export_lines(rendering.as_text(document))
    expected = seed_content_lines(seed_text)
    case_numbers = []
    for number, (got, want) in enumerate(zip(exported, expected, strict=False), start=1):
        if m := CASE_NO.match(got):  # the seed numbers the rows; tracking/ the cases beside
            (_, got), (want_no, want) = got.split("\t", 1), want.split("\t", 1)
            assert m[1] == want_no, f"line {number}: the row's number as the seed prints it"
            case_numbers.append((want_no, m[2]))
        assert got == want, f"line {number}"
    assert len(exported) == len(expected)
    # reviewed rows met first in these minutes get an R number, new items the next numbers
    assert case_numbers == [
        ("1.", "108-09-R01"), ("2.", "108-09-R02"), ("1", "108-09-01"), ("2", "108-09-02"),
    ]  # fmt: skip


def test_numbering_is_computed_not_stored(seed_meeting):
    from meetings.models import ReportItem

    first = ReportItem.objects.get(meeting=seed_meeting, text__startswith="親師生平台及校園通")
    first.position = 99  # move (一) to the end of its division
    first.save()
    text = rendering.as_text(selectors.meeting_document(seed_meeting))
    assert "(一)本市親師生平台配合「積點趣活動」" in text
    assert "(十一)親師生平台及校園通 App" in text


def test_the_docx_export_has_the_same_numbered_paragraphs_and_tables(seed_meeting):
    import docx

    data = rendering.as_docx(selectors.meeting_document(seed_meeting))
    document = docx.Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:2] == [
        "新北市九大分區資訊組長專業社群召集學校",
        "108 年度 9 月份聯席會議紀錄",
    ]
    assert "壹、會議時間：108 年 9 月 10 日（星期二）上午 10 時" in paragraphs
    assert (
        "(4)無人檢核教學內容是否合宜無誤，是否內含個資、系統帳密等等機敏資料，未來無法追究責任。"
        in paragraphs
    )
    assert "拾壹、散會(下午 12:30)" in paragraphs
    assert "案由六：有關均一教育平台欲取消本市單一簽入入口認證一事，提請討論。" in paragraphs
    tables = document.tables
    assert [c.text for c in tables[0].rows[0].cells] == [
        "案號",
        "案由",
        "前次辦理情形",
        "現辦理情形",
        "決議",
    ]
    assert tables[0].rows[2].cells[4].text == "本案解列。"
    assert len(tables[1].rows) == 3  # 新追蹤列管事項: header + 2
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("見 https://mis.ntpc.edu.tw/。", 'href="https://mis.ntpc.edu.tw/"'),
        ("專網 (http://pts.ntpc.edu.tw/app/)，請", 'href="http://pts.ntpc.edu.tw/app/" '),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('https://x.tw/"onmouseover="alert(1)', "</a>&quot;onmouseover=&quot;alert(1)"),
        ("javascript:alert(1)", "javascript:alert(1)"),
    ],
)
def test_links_are_made_after_escaping(text, html):
    out = rendering.linkify(text)
    assert html in out
    assert "<script" not in out and "javascript:alert(1)</a>" not in out


def test_a_url_in_parentheses_does_not_swallow_the_closing_parenthesis():
    assert rendering.linkify("(見 https://a.tw/x)").endswith("https://a.tw/x</a>)")
