"""`parse(text)`: each line goes to the section it is in; the checks of the whole document at
the end."""

from . import adjourn, dates, header, motions, reports, tables
from .result import PAGE_BREAK, ImportRejected, ParseResult
from .sections import SECTION_ORDER, split_label
from .text import DEBRIS_BULLET, SEPARATOR_ROW, TERMINAL, joins, lines
from .upload import MAX_BYTES


def parse(text, *, division_names=reports.DEFAULT_DIVISIONS):
    """Parse minutes text into a ParseResult. Raises ImportRejected only when the text is not
    minutes at all; everything else becomes a value, a kept note or a warning."""
    if text is None or not str(text).strip():
        raise ImportRejected("內容是空的，請貼上或上傳會議紀錄的內容。")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ImportRejected(
            f"內容太長；會議紀錄文字不會超過 {MAX_BYTES // 1024 // 1024} MB，請確認貼上的是會議紀錄。"
        )
    if "\x00" in text:
        raise ImportRejected("內容含有二進位資料，不是會議紀錄文字。")
    reading = Reading(division_names)
    if PAGE_BREAK in text:
        reading.r.page_starts = [1] + [
            n
            for n, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1)
            for _ in range(raw.count(PAGE_BREAK))
        ]
    for line in lines(text):
        reading.feed(line)
    return reading.finish()


class Reading:
    """One document being read: the result so far, the open section and its reader, and the
    free text being continued (shared by all sections, see `free`)."""

    def __init__(self, division_names):
        self.r = ParseResult()
        self.section = None  # SectionSpec
        self.preamble = []  # lines before the first heading
        self.last_line = None
        self.note_target = None  # (section key, "continuing") after a line went to `free`
        # the date (and time) a title or the lines above the first heading give, and a year
        # written there: for a 時間 line without a year, or minutes without a 時間 line
        self.preamble_when = (None, None)
        self.year_hint = (None, False)  # (year, it is a 學年度)
        self.readers = {
            "time": header.Time(self),
            "place": header.Place(self),
            "chair": header.Chair(self),
            "recorder": header.Recorder(self),
            "attendance": header.Attendance(self),
            "remarks": header.Remarks(self),
            "tracked": tables.TrackedTable(self, "tracked"),
            "new_tracked": tables.TrackedTable(self, "new_tracked"),
            "todo": tables.TrackedTable(self, "todo", target="new_tracked"),
            "reports": reports.BusinessReport(self, division_names),
            "proposals": motions.Motions(self, "proposal"),
            "extempore": motions.Motions(self, "extempore"),
            "adjourn": adjourn.Adjourn(self),
        }

    def feed(self, line):
        if not line.text:
            return
        if SEPARATOR_ROW.match(line.raw) or DEBRIS_BULLET.match(line.raw):
            return  # "--\t--\t--" rows and empty bullets are extraction debris
        self.last_line = line
        heading = split_label(line.text)
        if heading is not None and self._accepts(heading[0]):
            self._open(heading, line)
            return
        if self.section is None:
            self.preamble.append(line)
            return
        self.readers[self.section.key].feed(line)

    def _accepts(self, spec):
        if self.section is None:
            return True
        if spec.header and self.section.header:
            return spec.key != self.section.key  # the header's fields come in any order
        return SECTION_ORDER[spec.key] > SECTION_ORDER[self.section.key]

    def _open(self, heading, line):
        spec, written, value, _numbered = heading
        self._close_section()
        self.section = spec
        self.note_target = None
        if spec.key != "recorder":  # a field of 主持人's line, never a heading of its own
            self.r.top_sections.append((spec.key, written, line.number))
        self.readers[spec.key].open(value, line)

    def _close_section(self):
        if self.section is None:
            lines_, self.preamble = self.preamble, []
            self._read_hints(lines_)
            header.read_preamble(self.r, lines_)
            return
        self.readers[self.section.key].close()

    def _read_hints(self, lines_):
        for line in lines_[:15]:
            held, start = dates.find_when(line.text)
            if held is None:
                continue
            if self.preamble_when[0] is None:
                self.preamble_when = (held, start)
            elif held == self.preamble_when[0] and self.preamble_when[1] is None:
                self.preamble_when = (held, start)
        for line in lines_[:15]:
            if self.year_hint[0] is None:
                self.year_hint = dates.find_year(line.text)

    def free(self, line):
        """Text the current section has no place for: kept in the section, with a warning."""
        key = self.section.key if self.section else "header"
        notes = self.r.notes.get(key)
        if notes and self.note_target == (key, "continuing") and joins(notes[-1], line.text):
            notes[-1] += line.text
        else:
            kept = line.raw.strip().replace("\u2028", " ") if "\t" in line.raw else line.text
            self.r.keep(key, kept, line.number)
            self.r.warn(
                line.number,
                f"無法歸類的文字，已保留在「{self.section.labels[0] if self.section else '會議資訊'}」段落。",
            )
        # a heading kept as text stands alone: the text under it is not its continuation
        self.note_target = None if line.heading else (key, "continuing")

    def finish(self):
        self._close_section()
        r = self.r
        if not r.top_sections and not r.title:
            raise ImportRejected(
                "看不出這是會議紀錄：找不到會議名稱，也找不到「會議時間」、「業務報告」、"
                "「臨時動議」等段落。請貼上完整的會議紀錄。"
            )
        found = {key for key, _w, _l in r.top_sections}
        if r.held_on is None and self.preamble_when[0] is not None:
            r.held_on, r.start_time = self.preamble_when  # from the title: 20250812 會議記錄
        if r.title is None:
            r.warn(None, "找不到會議名稱（例如「108 年度 9 月份聯席會議紀錄」），請於草稿中補上。")
        if r.held_on is None:
            r.warn(None, "找不到會議日期（「會議時間：108 年 9 月 10 日…」），請於草稿中補上。")
        if "adjourn" not in found:
            r.warn(
                self.last_line.number if self.last_line else None,
                "找不到「散會」：文件可能不完整（被截斷），請核對最後的內容。",
            )
        for motion in r.motions:
            if not motion.subject:
                r.warn(motion.line, "這一案沒有案由。")
            if not motion.resolution:
                r.warn(motion.line, f"案由「{motion.subject[:20]}」沒有決議，請核對。")
        if self.last_line is not None and not self.last_line.text.endswith(TERMINAL):
            if self.section is not None and self.section.key != "adjourn":
                r.warn(
                    self.last_line.number,
                    "最後一行沒有結束的標點，文件可能被截斷，請核對原稿。",
                )
        return r
