"""業務報告: a heading per division (一、資訊推廣組：) and under each a tree of numbered items,
(一) above 1、 above (1) above 甲、 above (甲)."""

import re

from .result import ParsedDivision, ParsedItem
from .sections import SectionReader
from .text import Line, append, key_of

DEFAULT_DIVISIONS = ("資訊推廣組", "系統平臺組", "網管資安組")

# (style regex, style index); the index orders the levels: (一) above 1、 above (1) …
MARKERS = (
    (re.compile(r"^[(（]\s*([一二三四五六七八九十百]+)\s*[)）]\s*"), 0),
    (re.compile(r"^(\d+)\s*[、.．](?!\d)\s*"), 1),
    (re.compile(r"^[(（]\s*(\d+)\s*[)）]\s*"), 2),
    (re.compile(r"^([甲乙丙丁戊己庚辛壬癸])\s*[、.．]\s*"), 3),
    (re.compile(r"^[(（]\s*([甲乙丙丁戊己庚辛壬癸])\s*[)）]\s*"), 4),
)
_DIVISION = re.compile(r"^(?:[一二三四五六七八九十]+\s*[、.．]\s*)?(.{2,12}?)\s*[:：]?\s*$")


class BusinessReport(SectionReader):
    def __init__(self, reading, division_names):
        super().__init__(reading)
        self.division_keys = {key_of(n): n for n in division_names}
        self.division = None
        self.stack = []  # [(style index, ParsedItem)]: the item being read and its ancestors
        self.current_item = None

    def open(self, value, line):
        self.division, self.stack, self.current_item = None, [], None
        if value and value not in ("無", "略"):
            self.feed(Line(line.number, value, value))

    def _division_of(self, text):
        m = _DIVISION.match(text)
        if not m:
            return None
        name = self.division_keys.get(key_of(m[1]))
        if name:
            return name
        # an unknown division written like one: 四、教育科技組：
        if re.match(r"^[一二三四五六七八九十]+\s*[、.．]", text) and re.search(
            r"組\s*[:：]?$", text
        ):
            return m[1].strip()
        return None

    def feed(self, line):
        name = self._division_of(line.text)
        if name is not None:
            if name not in self.division_keys.values():
                self.r.warn(line.number, f"「{name}」不是已知的業務組別，請確認組別名稱。")
            self.division = ParsedDivision(name, line.number)
            self.r.divisions.append(self.division)
            self.stack, self.current_item = [], None
            return
        for pattern, style in MARKERS:
            m = pattern.match(line.text)
            if m:
                self._add_item(style, m, line)
                return
        if self.current_item is not None:
            self.current_item.text = append(self.current_item.text, line.text)
            return
        if self.division is not None:
            # text directly under a division heading: an item without a number
            self._add_item(0, None, line)
            self.r.warn(line.number, "業務報告中沒有編號的文字，已作為一個項目保留，請核對。")
            return
        self.reading.free(line)

    def _add_item(self, style, match, line):
        text = line.text[match.end() :] if match else line.text
        item = ParsedItem(
            text=text.strip(), line=line.number, marker=match[0].strip() if match else ""
        )
        if self.division is None:
            self.division = ParsedDivision("", line.number)
            self.r.divisions.append(self.division)
            self.r.warn(line.number, "業務報告的項目前沒有組別標題，請於草稿中指定組別。")
        while self.stack and self.stack[-1][0] >= style:
            self.stack.pop()
        expected_depth = style
        if len(self.stack) < expected_depth:
            self.r.warn(
                line.number,
                f"編號「{item.marker}」缺少上一層編號，已放在最接近的一層；頁面上的編號會重新計算。",
            )
        siblings = self.stack[-1][1].children if self.stack else self.division.items
        siblings.append(item)
        self.stack.append((style, item))
        self.current_item = item
