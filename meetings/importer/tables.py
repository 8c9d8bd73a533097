"""上次會議追蹤列管事項 and 新追蹤列管事項: tables (tab- or `|`-separated, often broken by page
breaks) or lists (bullets, numbered lines) of tracked items.

The rows go to `ParseResult.tracked_items` / `new_tracked_items` as plain dicts; the portal's
tracked items (tracking/) are made from them when the minutes are saved.

Tables come under other titles (列管事項執行情形, 歷次會議決議事項辦理情形, 待追蹤項目) and with
other columns (序號/項次, 決議事項, 執行單位, 執行情形, 預定完成日期, 列管建議): a column the
portal has no place for is read and left out; the numbering may sit in its own cell or be
missing. A list instead of a table: each item is a row; for tracked items, the first line under
an item (a status such as `Not yet`) is its resolution."""

import re

from .sections import SectionReader
from .text import append, key_of

COLUMNS = {
    "案號": "case_no",
    "編號": "case_no",
    "序號": "case_no",
    "項次": "case_no",
    "項目": "case_no",
    "案由": "subject",
    "決議事項": "subject",
    "列管事項": "subject",
    "追蹤事項": "subject",
    "事項": "subject",
    "工作項目": "subject",
    "前次辦理情形": "previous_status",
    "上次辦理情形": "previous_status",
    "現辦理情形": "current_status",
    "目前辦理情形": "current_status",
    "辦理情形": "current_status",
    "執行情形": "current_status",
    "辦理進度": "current_status",
    "決議": "resolution",
    "決定": "resolution",
    "列管建議": "resolution",
    "擬辦": "resolution",
    "主席裁示": "resolution",
    "執行單位": "unit",
    "承辦單位": "unit",
    "辦理單位": "unit",
    "負責人": "unit",
    "預定完成日期": "due",
    "完成期限": "due",
    "備註": "note",
}
WANTED = {
    "tracked": ("case_no", "subject", "previous_status", "current_status", "resolution"),
    "new_tracked": ("case_no", "subject"),
}
_EMPTY = ("無", "略", "無。", "(無)", "（無）")


def _starts_row(text):
    return bool(re.match(r"^\d+\s*[.、]?\s*$", text))


def _last_filled(row):
    for i in range(len(row) - 1, -1, -1):
        if row[i]:
            return i
    return 0


def cells_of(raw):
    """The cells of a table row: tab-separated (Word, PDF) or `| a | b |` (markdown, pasted)."""
    if "\t" in raw:
        return [c.strip() for c in raw.split("\t")]
    stripped = raw.strip()
    if stripped.count("|") >= 2 or (stripped.startswith("|") and stripped.count("|") >= 1):
        return [c.strip() for c in stripped.strip("|").split("|")]
    return [raw.strip()]


_LIST_MARKER = re.compile(
    r"^(?:\d+\s*[.、．)](?!\d)|[(（]\d+[)）]|[一二三四五六七八九十]+\s*、)\s*"
)


class TrackedTable(SectionReader):
    def __init__(self, reading, key, target=None):
        super().__init__(reading)
        self.key = key  # the section (its notes)
        self.target = target or key  # "tracked" | "new_tracked"
        self.reset()

    def reset(self):
        self.columns = None  # the header row's cells, as keys of COLUMNS' values
        self.rows = []
        self.items = []  # a list instead of a table: [dict]
        self.item_indent = None
        self.done = False  # a heading of no known section came: the list is over

    def open(self, value, line):
        self.reset()
        if value and value not in _EMPTY:
            self.r.keep(self.key, value, line.number)
            self.r.warn(line.number, "標題後的文字無法歸類，已保留。")

    def feed(self, line):
        if line.heading:
            self.done = True
        if self.done:
            self.reading.free(line)
            return
        cells = cells_of(line.raw)
        tabular = len(cells) > 1
        if self.columns is None:
            names = [COLUMNS.get(key_of(c).rstrip(":")) for c in cells]
            if tabular and "subject" in names and not self.items:
                self.columns = names
                return
            if not tabular and self._list_item(line):
                return
            self.reading.free(line)
            return
        if not tabular:
            if self.rows and len(cells) == 1 and not _starts_row(cells[0]):
                # a row's last cell that wrapped onto a line of its own
                last = _last_filled(self.rows[-1])
                self.rows[-1][last] = append(self.rows[-1][last], cells[0])
                self.r.warn(line.number, "表格的一列被拆成多行，已併入上一列，請核對。")
                return
            self.reading.free(line)
            return
        while cells and cells[-1] == "" and len(cells) > len(self.columns):
            cells.pop()
        if len(cells) > len(self.columns):
            extra = " ".join(c for c in cells[len(self.columns) - 1 :] if c)
            cells = cells[: len(self.columns) - 1] + [extra]
            self.r.warn(line.number, "這一列的欄位比表頭多，多出的內容已併入最後一欄。")
        cells += [""] * (len(self.columns) - len(cells))
        if cells[0] == "" and self.rows and "case_no" in self.columns[:1]:
            # the rest of the previous row after a page break: append cell by cell
            row = self.rows[-1]
            for i, cell in enumerate(cells):
                if cell:
                    row[i] = append(row[i], cell)
            return
        self.rows.append(cells)

    def _list_item(self, line):
        """A bullet or numbered line: a new item; a line under it: its status (tracked)."""
        marker = _LIST_MARKER.match(line.text)
        starts = line.bullet or marker
        if starts and (self.item_indent is None or line.indent <= self.item_indent):
            self.item_indent = line.indent
            subject = line.text[marker.end() :] if marker else line.text
            case_no = re.sub(r"[.、．)(（）\s]", "", marker[0]) if marker else ""
            self.items.append({"case_no": case_no, "subject": subject.strip().rstrip(":：")})
            return True
        if self.items and self.target == "tracked":
            item = self.items[-1]
            if "resolution" not in item:
                item["resolution"] = line.text
            else:
                self.r.keep(self.key, line.text, line.number)
            return True
        if (
            self.items is not None
            and not starts
            and self.target == "new_tracked"
            and (self.item_indent is None or line.indent <= (self.item_indent or 0))
        ):
            # 待辦 lines without bullets: one item a line
            self.item_indent = line.indent
            self.items.append({"case_no": "", "subject": line.text.strip()})
            return True
        return False

    def close(self):
        wanted = WANTED[self.target]
        target = self.r.tracked_items if self.target == "tracked" else self.r.new_tracked_items
        for item in self.items:
            values = dict.fromkeys(wanted, "")
            values.update({k: v for k, v in item.items() if k in values})
            target.append(values)
        if self.columns is not None:
            for cells in self.rows:
                values = dict.fromkeys(wanted, "")
                for name, cell in zip(self.columns, cells, strict=False):
                    if name in values:
                        values[name] = append(values[name], cell) if values[name] else cell
                values = {k: v.replace("\u2028", "\n") for k, v in values.items()}
                values["case_no"] = _case_number(values["case_no"])
                target.append(values)
        self.reset()


# The portal prints a row's 案號 as the minutes number it with its own case number beside it
# (「1.（108-09-01）」); reading its own minutes back must give the case number, not the label.
_NUMBER_WITH_CASE_NO = re.compile(r"[^（(]{0,6}[（(]\s*(\d{2,3}-\d{2}-[A-Z]?\d{2,3})\s*[)）]")


def _case_number(cell):
    both = _NUMBER_WITH_CASE_NO.fullmatch(cell.strip())
    return both.group(1) if both else re.sub(r"[.、．\s]+$", "", cell)
