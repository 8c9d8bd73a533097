"""上次會議追蹤列管事項 and 新追蹤列管事項: tab-separated tables, often broken by page breaks.

The rows go to `ParseResult.tracked_items` / `new_tracked_items` as plain dicts; the portal's
tracked items (tracking/) are made from them when the minutes are saved."""

import re

from .sections import SectionReader
from .text import append, key_of

COLUMNS = {
    "案號": "case_no",
    "編號": "case_no",
    "案由": "subject",
    "前次辦理情形": "previous_status",
    "上次辦理情形": "previous_status",
    "現辦理情形": "current_status",
    "目前辦理情形": "current_status",
    "辦理情形": "current_status",
    "決議": "resolution",
    "決定": "resolution",
}
WANTED = {
    "tracked": ("case_no", "subject", "previous_status", "current_status", "resolution"),
    "new_tracked": ("case_no", "subject"),
}


def _starts_row(text):
    return bool(re.match(r"^\d+\s*[.、]?\s*$", text))


def _last_filled(row):
    for i in range(len(row) - 1, -1, -1):
        if row[i]:
            return i
    return 0


class TrackedTable(SectionReader):
    def __init__(self, reading, key):
        super().__init__(reading)
        self.key = key
        self.columns = None  # the header row's cells, as keys of COLUMNS' values
        self.rows = []

    def open(self, value, line):
        self.columns, self.rows = None, []
        if value and value not in ("無", "略"):
            self.r.keep(self.key, value)
            self.r.warn(line.number, "標題後的文字無法歸類，已保留。")

    def feed(self, line):
        cells = [c.strip() for c in line.raw.split("\t")]
        if self.columns is None:
            names = [COLUMNS.get(key_of(c)) for c in cells]
            if "\t" in line.raw and "case_no" in names and "subject" in names:
                self.columns = names
                return
            self.reading.free(line)
            return
        if "\t" not in line.raw:
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
        if cells[0] == "" and self.rows:
            # the rest of the previous row after a page break: append cell by cell
            row = self.rows[-1]
            for i, cell in enumerate(cells):
                if cell:
                    row[i] = append(row[i], cell)
            return
        self.rows.append(cells)

    def close(self):
        if self.columns is None:
            return  # no table (無, or text kept in the section's notes)
        wanted = WANTED[self.key]
        target = self.r.tracked_items if self.key == "tracked" else self.r.new_tracked_items
        for cells in self.rows:
            values = dict.fromkeys(wanted, "")
            for name, cell in zip(self.columns, cells, strict=False):
                if name in values:
                    values[name] = append(values[name], cell) if values[name] else cell
            values["case_no"] = re.sub(r"[.、．\s]+$", "", values["case_no"])
            target.append(values)
        self.columns, self.rows = None, []
