"""The header part: the title (with the organiser above it) and the one-line fields 會議時間,
會議地點, 主持人 (with 紀錄), 出席人員 and 主席致詞."""

import re

from . import dates
from .sections import SectionReader
from .text import append, key_of

_RECORDER = re.compile(r"[紀記]\s*[錄录]\s*[:：]\s*")


def read_preamble(r, lines):
    """The lines before the first heading: the organiser, then the title (…會議紀錄)."""
    title_at = None
    for i, line in enumerate(lines):
        key = key_of(line.text)
        if re.search(r"(會議|會)(紀錄|記錄)$", key) or key.endswith("會議紀錄"):
            title_at = i
            break
    if title_at is None:
        for line in lines:
            r.keep("header", line.text, line.number)
            r.warn(line.number, "無法辨識的文字（在第一個段落之前），已保留於會議資訊。")
        return
    title = lines[title_at].text
    r.title = re.sub(r"\s*[紀記]錄$", "", title).strip()
    if title_at:
        r.organiser = "".join(line.text for line in lines[:title_at])
    for line in lines[title_at + 1 :]:
        r.keep("header", line.text, line.number)
        r.warn(line.number, "會議名稱之後無法辨識的文字，已保留於會議資訊。")


class Time(SectionReader):
    """會議時間：108 年 9 月 10 日（星期二）上午 10 時 – the date and the starting time."""

    def open(self, value, line):
        r = self.r
        if not value:
            r.warn(line.number, "會議時間是空的。")
            return
        held, start = dates.find_when(value)
        hint = self.reading.preamble_when
        if held is None and dates.has_month_day(value):
            if hint[0] is not None:
                # 時間：1/30 with no year, and a full date in the title: the title's date
                held = hint[0]
                r.warn(
                    line.number,
                    f"會議時間「{value}」沒有年份，已採用會議名稱的日期，請核對。",
                )
            else:
                year, school = self.reading.year_hint
                held, _rest = dates.month_day(value, year, school_year=school)
            start = dates.find_time(dates.month_day(value, 2000)[1])  # the time after 3/15
        if held is None:
            r.warn(line.number, f"無法辨識會議日期「{value}」，請於草稿中補上。")
            r.keep("time", value, line.number)
            return
        r.held_on, r.start_time = held, start


class Place(SectionReader):
    def open(self, value, line):
        self.r.place = value or None


class Chair(SectionReader):
    """主持人：吳科長佳珊　紀錄：吳安絜 – the recorder on the same line or on the next one."""

    def open(self, value, line):
        parts = _RECORDER.split(value, maxsplit=1)
        if parts[0].strip():
            self.r.chair = parts[0].strip()
        if len(parts) == 2:
            self.r.recorder = parts[1].strip() or None

    def feed(self, line):
        # 紀錄 / 記錄 / 紀　錄 on its own line under 主持人
        m = re.match(r"^[紀記]\s*[錄录]\s*[:：]?\s*(.*)$", line.text.replace("\u3000", " "))
        if m and self.r.recorder is None:
            self.r.recorder = m[1].strip() or None
            return
        self.reading.free(line)


class Recorder(SectionReader):
    def open(self, value, line):
        if value:
            self.r.recorder = value


class Attendance(SectionReader):
    def open(self, value, line):
        self.r.attendance_note = value or None

    def feed(self, line):
        # an attendance list under the heading: kept in full
        self.r.keep("attendance", line.text, line.number)


class Remarks(SectionReader):
    """主席致詞: every line under the heading is part of the remarks."""

    def open(self, value, line):
        self.r.chair_remarks = value or None

    def feed(self, line):
        self.r.chair_remarks = append(self.r.chair_remarks or "", line.text)
