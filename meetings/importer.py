"""Read the text of a minutes document (pasted, or extracted from .docx) into structure.

Pure: no database. `parse(text)` returns a `ParseResult`; `text_from_upload(data, filename)`
turns an uploaded file into text or refuses it with a Chinese message (`ImportRejected`).

What real minutes look like after PDF or Word extraction, and what this module does about it:
- full- and half-width punctuation, labels with spaces between the characters (主 席, 紀　錄):
  labels are matched on a key with NFKC applied and all spaces removed; values keep their text;
- headings with or without numbering (壹、會議時間 / 會議時間): matched by their label, and only
  in the official order, so a sentence that happens to start with 時間 inside a report is text;
- tables flattened to tab-separated lines, broken across page breaks: a row whose first cells are
  empty continues the cells of the row before it;
- a sentence cut by a page break (a line not ending in 。；：！？) continues on the next line;
- extraction debris (markdown bullets "- ", <https://…> brackets, "--" rows) is not content;
- what cannot be placed is kept, as text, in the nearest section and reported with its line
  number. Nothing is dropped silently.
"""

import io
import re
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, time

from portal import rocdate

MAX_BYTES = 2 * 1024 * 1024  # minutes are tens of kilobytes; 2 MB is already a mistake
DEFAULT_DIVISIONS = ("資訊推廣組", "系統平臺組", "網管資安組")


class ImportRejected(ValueError):
    """The input is not minutes at all; the message (Chinese) says why. Nothing is saved."""


# --- the sections, in the official order ---------------------------------------------------


@dataclass(frozen=True)
class SectionSpec:
    key: str
    labels: tuple  # the first is the official label; the rest are accepted aliases
    header: bool = False  # a one-line field of the header part (時間, 地點, …)


SECTIONS = (
    SectionSpec("time", ("會議時間", "開會時間", "時間", "日期"), header=True),
    SectionSpec("place", ("會議地點", "開會地點", "地點"), header=True),
    SectionSpec("chair", ("主持人", "主席"), header=True),
    SectionSpec("attendance", ("出席人員", "出列席人員", "出席者", "出席"), header=True),
    SectionSpec("remarks", ("主席致詞", "主持人致詞", "主席報告")),
    SectionSpec("tracked", ("上次會議追蹤列管事項", "上次會議列管事項", "追蹤列管事項")),
    SectionSpec("new_tracked", ("新追蹤列管事項", "新增追蹤列管事項", "新增列管事項")),
    SectionSpec("reports", ("業務報告", "工作報告")),
    SectionSpec("proposals", ("提案討論", "討論事項")),
    SectionSpec("extempore", ("臨時動議",)),
    SectionSpec("adjourn", ("散會",)),
)
SECTION_ORDER = {spec.key: i for i, spec in enumerate(SECTIONS)}
# longest labels first, so 主席致詞 is not read as 主席 + 致詞
_LABELS = sorted(
    ((label, spec) for spec in SECTIONS for label in spec.labels), key=lambda p: -len(p[0])
)

_FORMAL_NUM = "壹貳參叁肆伍陸柒捌玖拾"
_PLAIN_NUM = "一二三四五六七八九十"
_SECTION_PREFIX = re.compile(rf"^(?:[{_FORMAL_NUM}]+|[{_PLAIN_NUM}]+|\d+)\s*[、.．]\s*")
_TERMINAL = tuple("。；：！？!?;:」』）)")
_SEPARATOR_ROW = re.compile(r"^[\s\-–—|:＝=]+$")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+)>")
_BULLET = re.compile(r"^\s*[-•・*]\s+")
_DEBRIS_BULLET = re.compile(r"^\s*[-•・]\s*$")


def key_of(text):
    """The matching key of a label: NFKC (full-width → half-width) and no spaces at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# --- the result ------------------------------------------------------------------------------


@dataclass
class Warning:
    line: int | None
    message: str


@dataclass
class ParsedItem:
    text: str
    line: int
    marker: str = ""  # the number the document wrote, e.g. "(一)" – for checking, not stored
    children: list = field(default_factory=list)


@dataclass
class ParsedDivision:
    name: str
    line: int
    items: list = field(default_factory=list)


@dataclass
class ParsedMotion:
    kind: str  # "proposal" | "extempore"
    line: int
    subject: str = ""
    explanation: str = ""
    resolution: str = ""
    proposer: str = ""


@dataclass
class ParseResult:
    organiser: str | None = None
    title: str | None = None
    held_on: date | None = None
    start_time: time | None = None
    place: str | None = None
    chair: str | None = None
    recorder: str | None = None
    attendance_note: str | None = None
    chair_remarks: str | None = None
    adjourned_time: time | None = None
    top_sections: list = field(default_factory=list)  # [(key, heading as written, line)]
    divisions: list = field(default_factory=list)
    motions: list = field(default_factory=list)
    tracked_items: list = field(default_factory=list)
    new_tracked_items: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)  # section key → [text kept but not understood]
    warnings: list = field(default_factory=list)

    def warn(self, line, message):
        self.warnings.append(Warning(line, message))

    def keep(self, key, text):
        self.notes.setdefault(key, []).append(text)

    @property
    def item_count(self):
        def count(items):
            return sum(1 + count(i.children) for i in items)

        return sum(count(d.items) for d in self.divisions)

    def as_json(self):
        """The shape `import_minutes --dry-run --json` prints (and the issue specifies)."""
        return {
            "title": self.title,
            "held_on": self.held_on.isoformat() if self.held_on else None,
            "start_time": self.start_time.strftime("%H:%M") if self.start_time else None,
            "place": self.place,
            "chair": self.chair,
            "recorder": self.recorder,
            "adjourned_time": self.adjourned_time.strftime("%H:%M")
            if self.adjourned_time
            else None,
            "top_sections": [heading for _key, heading, _line in self.top_sections],
            "motions": [
                {"kind": m.kind, "subject": m.subject, "resolution": m.resolution or None}
                for m in self.motions
            ],
            "tracked_items": [dict(item) for item in self.tracked_items],
            "new_tracked_items": [dict(item) for item in self.new_tracked_items],
            "warnings": [asdict(w) for w in self.warnings],
        }


# --- uploads ---------------------------------------------------------------------------------


def text_from_upload(data: bytes, filename: str = ""):
    """The text of an uploaded file (.txt or .docx), or ImportRejected saying what it is."""
    if not data or not data.strip():
        raise ImportRejected("檔案是空的，請貼上或上傳會議紀錄的內容。")
    if len(data) > MAX_BYTES:
        raise ImportRejected(
            f"檔案太大（{len(data) / 1024 / 1024:.1f} MB）；會議紀錄文字檔不會超過 "
            f"{MAX_BYTES // 1024 // 1024} MB，請確認選擇的是會議紀錄。"
        )
    if data[:4] == b"PK\x03\x04":
        return _text_from_zip(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportRejected(
            "這是舊版 Office 檔案（.doc 或 .xls），請在 Word 另存為 .docx 後再上傳。"
        )
    if data[:5] == b"%PDF-":
        raise ImportRejected("這是 PDF 檔案；請在 PDF 閱讀器全選複製文字，再貼到文字框。")
    if b"\x00" in data[:4096]:
        raise ImportRejected("這不是文字檔（看起來是二進位檔案），請上傳 .txt 或 .docx。")
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRejected("無法辨識檔案的文字編碼，請存成 UTF-8 的 .txt 或 .docx。")


MAX_DOCX_UNZIPPED = 50 * 1024 * 1024


def _text_from_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ImportRejected("檔案已損毀，無法開啟。") from None
    if "xl/workbook.xml" in names:
        raise ImportRejected("這是試算表（Excel）檔案，不是會議紀錄；請上傳 .docx 或貼上文字。")
    if "ppt/presentation.xml" in names:
        raise ImportRejected("這是簡報檔案，不是會議紀錄；請上傳 .docx 或貼上文字。")
    if "word/document.xml" not in names:
        raise ImportRejected("這是壓縮檔，不是會議紀錄；請上傳 .docx 或貼上文字。")
    # A zip bomb: a small .docx that inflates to gigabytes. Judge the declared sizes before
    # python-docx inflates anything (a liar is caught by zipfile's own size check on reading).
    if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_UNZIPPED:
        raise ImportRejected("這個 .docx 解壓縮後超過 50 MB，不像會議紀錄；請確認檔案內容。")
    return docx_text(data)


def docx_text(data):
    """Paragraphs and tables of a .docx in document order; table rows become tab-separated
    lines, the same shape as text copied out of Word."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 – python-docx raises many kinds for a broken file
        raise ImportRejected("無法讀取這個 .docx 檔案，請確認檔案沒有損毀。") from None
    lines = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = []
                for cell in row.cells:
                    text = " ".join(cell.text.split("\n"))
                    if not cells or cells[-1] is not cell:  # merged cells repeat
                        cells.append(text)
                lines.append("\t".join(cells))
            lines.append("")
    return "\n".join(lines)


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class _Line:
    number: int
    raw: str  # as written, minus trailing spaces
    text: str  # debris removed, stripped


def _lines(text):
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        raw = raw.rstrip()
        clean = _BULLET.sub("", raw) if "\t" not in raw else raw
        clean = _AUTOLINK.sub(r"\1", clean).strip(" \u3000")
        yield _Line(number, raw, clean)


def _joins(previous, following):
    """Is `following` the rest of a sentence that a page break cut after `previous`?"""
    return bool(previous) and not previous.rstrip().endswith(_TERMINAL)


def _append(existing, addition):
    if not existing:
        return addition
    if _joins(existing, addition):
        return existing + addition
    return existing + "\n" + addition


def _split_label(text):
    """'參、主 持 人：吳科長' → ('主持人' spec, '主 持 人', '吳科長'); None when not a heading."""
    body = _SECTION_PREFIX.sub("", text, count=1)
    numbered = body != text
    key = key_of(body)
    for label, spec in _LABELS:
        if not key.startswith(label):
            continue
        rest_key = key[len(label) :]
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
        value = body[i:].strip()
        if value[:1] in (":", "："):
            value = value[1:].strip()
        return spec, written, value, numbered
    return None


_RECORDER = re.compile(r"[紀記]\s*[錄录]\s*[:：]\s*")


def parse(text, *, division_names=DEFAULT_DIVISIONS):
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
    parser = _Parser(division_names)
    for line in _lines(text):
        parser.feed(line)
    return parser.finish()


class _Parser:
    def __init__(self, division_names):
        self.r = ParseResult()
        self.division_keys = {key_of(n): n for n in division_names}
        self.section = None  # SectionSpec
        self.preamble = []  # lines before the first heading
        self.last_line = None
        # tables
        self.columns = None
        self.rows = []
        # reports
        self.division = None
        self.stack = []  # [(style index, ParsedItem)]
        self.current_item = None
        # motions
        self.motion = None
        self.motion_field = None
        # free text being continued (chair remarks, attendance, notes)
        self.note_target = None

    # -- dispatch

    def feed(self, line):
        if not line.text:
            return
        if _SEPARATOR_ROW.match(line.raw) or _DEBRIS_BULLET.match(line.raw):
            return  # "--\t--\t--" rows and empty bullets are extraction debris
        self.last_line = line
        heading = _split_label(line.text)
        if heading is not None and self._accepts(heading[0]):
            self._open(heading, line)
            return
        if self.section is None:
            self.preamble.append(line)
            return
        getattr(self, f"_in_{self.section.key}", self._in_free)(line)

    def _accepts(self, spec):
        if self.section is None:
            return True
        return SECTION_ORDER[spec.key] > SECTION_ORDER[self.section.key]

    def _open(self, heading, line):
        spec, written, value, _numbered = heading
        self._close_section()
        self.section = spec
        self.note_target = None
        self.r.top_sections.append((spec.key, written, line.number))
        getattr(self, f"_open_{spec.key}")(value, line)

    def _close_section(self):
        if self.section is None:
            self._read_preamble()
            return
        if self.section.key in ("tracked", "new_tracked"):
            self._finish_table()

    def finish(self):
        self._close_section()
        r = self.r
        if not r.top_sections and not r.title:
            raise ImportRejected(
                "看不出這是會議紀錄：找不到會議名稱，也找不到「會議時間」、「業務報告」、"
                "「臨時動議」等段落。請貼上完整的會議紀錄。"
            )
        found = {key for key, _w, _l in r.top_sections}
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
        if self.last_line is not None and not self.last_line.text.endswith(_TERMINAL):
            if self.section is not None and self.section.key != "adjourn":
                r.warn(
                    self.last_line.number,
                    "最後一行沒有結束的標點，文件可能被截斷，請核對原稿。",
                )
        return r

    # -- the header part

    def _read_preamble(self):
        lines, self.preamble = self.preamble, []
        title_at = None
        for i, line in enumerate(lines):
            key = key_of(line.text)
            if re.search(r"(會議|會)(紀錄|記錄)$", key) or key.endswith("會議紀錄"):
                title_at = i
                break
        if title_at is None:
            for line in lines:
                self.r.keep("header", line.text)
                self.r.warn(line.number, "無法辨識的文字（在第一個段落之前），已保留於會議資訊。")
            return
        title = lines[title_at].text
        self.r.title = re.sub(r"\s*[紀記]錄$", "", title).strip()
        if title_at:
            self.r.organiser = "".join(line.text for line in lines[:title_at])
        for line in lines[title_at + 1 :]:
            self.r.keep("header", line.text)
            self.r.warn(line.number, "會議名稱之後無法辨識的文字，已保留於會議資訊。")

    def _open_time(self, value, line):
        self._read_datetime(value, line)

    def _read_datetime(self, value, line):
        if not value:
            self.r.warn(line.number, "會議時間是空的。")
            return
        try:
            flat = rocdate.normalise(value)
        except rocdate.ROCDateError:
            flat = ""
        m = re.match(r"^(\d{2,4})[年/.\-](\d{1,2})[月/.\-](\d{1,2})日?(.*)$", flat)
        if not m:
            self.r.warn(line.number, f"無法辨識會議日期「{value}」，請於草稿中補上。")
            self.r.keep("time", value)
            return
        try:
            self.r.held_on = rocdate.parse_date(f"{m[1]}/{m[2]}/{m[3]}")
        except rocdate.ROCDateError as exc:
            self.r.warn(line.number, str(exc))
            self.r.keep("time", value)
            return
        rest = re.split(r"[~～〜至到]|(?<=\d)-(?=\d|上|下)", m[4])[0]
        if rest:
            try:
                self.r.start_time = rocdate.parse_time(rest)
            except rocdate.ROCDateError:
                self.r.warn(line.number, f"無法辨識開始時間「{m[4]}」，請於草稿中補上。")
                self.r.keep("time", value)

    def _in_time(self, line):
        self._in_free(line)

    def _open_place(self, value, line):
        self.r.place = value or None

    def _open_chair(self, value, line):
        self._read_chair_line(value)

    def _read_chair_line(self, value):
        parts = _RECORDER.split(value, maxsplit=1)
        if parts[0].strip():
            self.r.chair = parts[0].strip()
        if len(parts) == 2:
            self.r.recorder = parts[1].strip() or None

    def _in_chair(self, line):
        # 紀錄 / 記錄 / 紀　錄 on its own line under 主持人
        m = re.match(r"^[紀記]\s*[錄录]\s*[:：]?\s*(.*)$", line.text.replace("\u3000", " "))
        if m and self.r.recorder is None:
            self.r.recorder = m[1].strip() or None
            return
        self._in_free(line)

    def _open_attendance(self, value, line):
        self.r.attendance_note = value or None

    def _in_attendance(self, line):
        # an attendance list under the heading: kept in full
        self.r.keep("attendance", line.text)

    def _open_remarks(self, value, line):
        self.r.chair_remarks = value or None
        self.note_target = "remarks"

    def _in_remarks(self, line):
        self.r.chair_remarks = _append(self.r.chair_remarks or "", line.text)

    def _in_place(self, line):
        self._in_free(line)

    def _in_free(self, line):
        """Text the current section has no place for: kept in the section, with a warning."""
        key = self.section.key if self.section else "header"
        notes = self.r.notes.get(key)
        if notes and self.note_target == (key, "continuing") and _joins(notes[-1], line.text):
            notes[-1] += line.text
        else:
            self.r.keep(key, line.raw.strip() if "\t" in line.raw else line.text)
            self.r.warn(
                line.number,
                f"無法歸類的文字，已保留在「{self.section.labels[0] if self.section else '會議資訊'}」段落。",
            )
        self.note_target = (key, "continuing")

    # -- tables (上次會議追蹤列管事項, 新追蹤列管事項)

    _TRACKED_COLUMNS = {
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

    def _open_tracked(self, value, line):
        self.columns, self.rows, self.table_line = None, [], line.number
        if value and value not in ("無", "略"):
            self.r.keep(self.section.key, value)
            self.r.warn(line.number, "標題後的文字無法歸類，已保留。")

    _open_new_tracked = _open_tracked

    def _in_tracked(self, line):
        cells = [c.strip() for c in line.raw.split("\t")]
        if self.columns is None:
            names = [self._TRACKED_COLUMNS.get(key_of(c)) for c in cells]
            if "\t" in line.raw and "case_no" in names and "subject" in names:
                self.columns = names
                return
            self._in_free(line)
            return
        if "\t" not in line.raw:
            if self.rows and len(cells) == 1 and not self._starts_row(cells[0]):
                # a row's last cell that wrapped onto a line of its own
                last = self._last_filled(self.rows[-1])
                self.rows[-1][last] = _append(self.rows[-1][last], cells[0])
                self.r.warn(line.number, "表格的一列被拆成多行，已併入上一列，請核對。")
                return
            self._in_free(line)
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
                    row[i] = _append(row[i], cell)
            return
        self.rows.append(cells)

    _in_new_tracked = _in_tracked

    @staticmethod
    def _starts_row(text):
        return bool(re.match(r"^\d+\s*[.、]?\s*$", text))

    @staticmethod
    def _last_filled(row):
        for i in range(len(row) - 1, -1, -1):
            if row[i]:
                return i
        return 0

    def _finish_table(self):
        if self.columns is None:
            return  # no table (無, or text kept in the section's notes)
        wanted = (
            ("case_no", "subject", "previous_status", "current_status", "resolution")
            if self.section.key == "tracked"
            else ("case_no", "subject")
        )
        target = self.r.tracked_items if self.section.key == "tracked" else self.r.new_tracked_items
        for cells in self.rows:
            values = dict.fromkeys(wanted, "")
            for name, cell in zip(self.columns, cells, strict=False):
                if name in values:
                    values[name] = _append(values[name], cell) if values[name] else cell
            values["case_no"] = re.sub(r"[.、．\s]+$", "", values["case_no"])
            target.append(values)
        self.columns, self.rows = None, []

    # -- 業務報告: divisions and a tree of items

    # (style regex, style index); the index orders the levels: (一) above 1、 above (1) …
    _MARKERS = (
        (re.compile(r"^[(（]\s*([一二三四五六七八九十百]+)\s*[)）]\s*"), 0),
        (re.compile(r"^(\d+)\s*[、.．](?!\d)\s*"), 1),
        (re.compile(r"^[(（]\s*(\d+)\s*[)）]\s*"), 2),
        (re.compile(r"^([甲乙丙丁戊己庚辛壬癸])\s*[、.．]\s*"), 3),
        (re.compile(r"^[(（]\s*([甲乙丙丁戊己庚辛壬癸])\s*[)）]\s*"), 4),
    )
    _DIVISION = re.compile(r"^(?:[一二三四五六七八九十]+\s*[、.．]\s*)?(.{2,12}?)\s*[:：]?\s*$")

    def _open_reports(self, value, line):
        self.division, self.stack, self.current_item = None, [], None
        if value and value not in ("無", "略"):
            self._in_reports(_Line(line.number, value, value))

    def _division_of(self, text):
        m = self._DIVISION.match(text)
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

    def _in_reports(self, line):
        name = self._division_of(line.text)
        if name is not None:
            if name not in self.division_keys.values():
                self.r.warn(line.number, f"「{name}」不是已知的業務組別，請確認組別名稱。")
            self.division = ParsedDivision(name, line.number)
            self.r.divisions.append(self.division)
            self.stack, self.current_item = [], None
            return
        for pattern, style in self._MARKERS:
            m = pattern.match(line.text)
            if m:
                self._add_item(style, m, line)
                return
        if self.current_item is not None:
            self.current_item.text = _append(self.current_item.text, line.text)
            return
        if self.division is not None:
            # text directly under a division heading: an item without a number
            self._add_item(0, None, line)
            self.r.warn(line.number, "業務報告中沒有編號的文字，已作為一個項目保留，請核對。")
            return
        self._in_free(line)

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

    # -- 提案討論 and 臨時動議

    _MOTION_FIELDS = (
        (re.compile(r"^(?:案由|提案|案\s*由)\s*[一二三四五六七八九十\d]*\s*[:：]\s*"), "subject"),
        (re.compile(r"^說\s*明\s*[:：]\s*"), "explanation"),
        (re.compile(r"^(?:決\s*議|決\s*定)\s*[:：]\s*"), "resolution"),
        (re.compile(r"^(?:提案單位|提案人|提案學校)\s*[:：]\s*"), "proposer"),
    )

    def _open_proposals(self, value, line):
        self.motion, self.motion_field = None, None
        if value and value not in ("無", "略"):
            self._in_motions(_Line(line.number, value, value))

    _open_extempore = _open_proposals

    def _in_proposals(self, line):
        self._in_motions(line)

    _in_extempore = _in_proposals

    def _in_motions(self, line):
        kind = "proposal" if self.section.key == "proposals" else "extempore"
        text = line.text
        for pattern, name in self._MOTION_FIELDS:
            m = pattern.match(text)
            if not m:
                continue
            value = text[m.end() :].strip()
            if name == "subject" or self.motion is None or getattr(self.motion, name):
                if name != "subject":
                    self.r.warn(line.number, "「說明／決議」之前沒有案由，已另立一案，請核對。")
                self.motion = ParsedMotion(kind=kind, line=line.number)
                self.r.motions.append(self.motion)
            setattr(self.motion, name, value)
            self.motion_field = name
            return
        if self.motion is not None:
            setattr(
                self.motion,
                self.motion_field,
                _append(getattr(self.motion, self.motion_field), line.text),
            )
            return
        self._in_free(line)

    # -- 散會

    def _open_adjourn(self, value, line):
        inner = value.strip("()（） ")
        if inner:
            try:
                self.r.adjourned_time = rocdate.parse_time(inner)
            except rocdate.ROCDateError:
                self.r.warn(line.number, f"無法辨識散會時間「{value}」。")
                self.r.keep("adjourn", value)
        self.trailing_warned = False

    def _in_adjourn(self, line):
        # e.g. an attached survey form after 散會: kept verbatim (tabs included), warned once
        self.r.keep("adjourn", line.raw.strip() if "\t" in line.raw else line.text)
        if not self.trailing_warned:
            self.r.warn(
                line.number,
                "「散會」之後還有文字（可能是附件），已保留在散會段落之後，請確認是否另存為附件。",
            )
            self.trailing_warned = True
