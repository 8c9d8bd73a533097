"""The sections of the minutes, in the official order, and how a line is read as a heading.

Each section is read by a `SectionReader` (header.py, tables.py, reports.py, motions.py,
adjourn.py): `open` gets the text after the heading's label, `feed` every line until the next
heading, `close` runs when the next heading (or the end) comes."""

import re
import unicodedata
from dataclasses import dataclass

from .text import key_of


@dataclass(frozen=True)
class SectionSpec:
    key: str
    labels: tuple  # the first is the official label; the rest are accepted aliases
    header: bool = False  # a one-line field of the header part (時間, 地點, …)
    needs_colon: bool = False  # 紀錄 alone on a line is a title's word, 紀錄：… is the field


SECTIONS = (
    SectionSpec(
        "time",
        ("會議時間", "開會時間", "會議日期", "開會日期", "時間", "日期", "日時"),
        header=True,
    ),
    SectionSpec("place", ("會議地點", "開會地點", "會議地址", "地點"), header=True),
    SectionSpec(
        "chair",
        ("主持人兼司儀", "會議主持人", "會議主席", "主持人", "主席"),
        header=True,
        needs_colon=True,
    ),
    SectionSpec(
        "recorder",
        (
            "會議紀錄人",
            "會議記錄人",
            "會議紀錄",
            "會議記錄",
            "紀錄人",
            "記錄人",
            "總紀錄",
            "紀錄",
            "記錄",
        ),
        header=True,
        needs_colon=True,
    ),
    SectionSpec(
        "attendance",
        ("出席人員", "出列席人員", "出席委員", "出席者", "與會人員", "出席", "人員"),
        header=True,
    ),
    SectionSpec("remarks", ("主席致詞", "主持人致詞", "主席報告")),
    SectionSpec(
        "tracked",
        (
            "上次會議追蹤列管事項",
            "上次會議列管事項",
            "追蹤列管事項",
            "列管事項執行情形",
            "歷次會議決議事項辦理情形",
            "上次會議決議事項辦理情形",
            "前次會議決議事項辦理情形",
            "上次會議決議執行情形",
            "本次會議待追蹤項目",
            "待追蹤項目",
        ),
    ),
    SectionSpec("new_tracked", ("新追蹤列管事項", "新增追蹤列管事項", "新增列管事項")),
    SectionSpec("reports", ("業務報告", "工作報告", "會務報告", "報告事項")),
    SectionSpec(
        "proposals",
        (
            "提案討論",
            "討論提案",
            "討論事項",
            "議題討論",
            "討論議案",
            "討論案",
            "提案",
            "會議達成共識",
            "達成共識",
            "共識",
            "宣讀議案交付審查",
        ),
    ),
    SectionSpec("extempore", ("臨時動議", "臨時提案")),
    # 待辦 after the discussion (community notes): new tracked items, as a list
    SectionSpec("todo", ("待辦事項", "會後待辦", "後續待辦", "待辦", "工作分配")),
    SectionSpec("adjourn", ("散會",)),
)
SECTION_ORDER = {spec.key: i for i, spec in enumerate(SECTIONS)}
# longest labels first, so 主席致詞 is not read as 主席 + 致詞
_LABELS = sorted(
    ((label, spec) for spec in SECTIONS for label in spec.labels), key=lambda p: -len(p[0])
)

_FORMAL_NUM = "壹貳參叁肆伍陸柒捌玖拾"
_PLAIN_NUM = "一二三四五六七八九十"
_STEM_NUM = "甲乙丙丁戊己庚辛壬癸"
_SECTION_PREFIX = re.compile(
    rf"^(?:[{_FORMAL_NUM}]+|[{_PLAIN_NUM}]+|\d+|[{_STEM_NUM}])\s*[、.．﹑，,]\s*"
)


def split_label(text):
    """'參、主 持 人：吳科長' → ('主持人' spec, '主 持 人', '吳科長'); None when not a heading."""
    body = _SECTION_PREFIX.sub("", text, count=1)
    numbered = body != text
    key = key_of(body)
    for label, spec in _LABELS:
        if not key.startswith(label):
            continue
        rest_key = key[len(label) :]
        if spec.needs_colon and not re.match(r"^(?:\([^()]{0,12}\))?:", rest_key):
            continue  # 主持人（群）養成… is a sentence; 主席（代理）：… is the field
        if rest_key and rest_key[0] not in ":(" and not (numbered and not spec.header):
            # '時間表…' is not the 時間 heading; but '柒、新追蹤列管事項' needs no colon
            continue
        # find where the label ends in the original text (it may contain spaces)
        consumed, i = 0, 0
        while i < len(body) and consumed < len(label):
            if not body[i].isspace():
                consumed += len(unicodedata.normalize("NFKC", body[i]))
            i += 1
        written = body[:i].strip()
        value = re.sub(r"^[(（][^()（）]{0,12}[)）]\s*(?=[:：])", "", body[i:].strip())
        if value[:1] in (":", "："):
            value = value[1:].strip()
        return spec, written, value, numbered
    return None


class SectionReader:
    """Reads the lines of one section into `reading.r` (the ParseResult). A line the section
    has no place for goes to `reading.free(line)`: kept in the section, with a warning."""

    def __init__(self, reading):
        self.reading = reading

    @property
    def r(self):
        return self.reading.r

    def open(self, value, line):
        """The heading's line: `value` is the text after its label (時間：`108 年 9 月 10 日`)."""

    def feed(self, line):
        self.reading.free(line)

    def close(self):
        """The next heading, or the end of the text, has come."""
