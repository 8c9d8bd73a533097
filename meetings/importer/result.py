"""What the importer returns: a `ParseResult`, or `ImportRejected` when the text is not minutes."""

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, time

PAGE_BREAK = "\f"  # pdf_text starts each page after the first with it, as PDF tools do


class ImportRejected(ValueError):
    """The input is not minutes at all; the message (Chinese) says why. Nothing is saved."""


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
    numbered: bool = False  # the subject is a numbered item's line, not a 案由 label
    bullet: bool = False  # … a bullet's line (- 總統盃黑客松借場宣傳)
    open_colon: bool = False  # the numbered line ended with a colon: its subject goes on


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
    note_lines: dict = field(default_factory=dict)  # section key → [source line of each note]
    warnings: list = field(default_factory=list)
    # the text's line where each page starts (a PDF's text), empty for text without pages
    page_starts: list = field(default_factory=list)

    def locate(self, line):
        """(page, line on that page) of a line of the text; page is None for text without
        pages (pasted, .docx)."""
        if not line or not self.page_starts:
            return None, line
        page = bisect_right(self.page_starts, line)
        return page, line - self.page_starts[page - 1] + 1

    def where(self, line):
        """A line as a person finds it in the original: 第 3 頁第 12 行, or 第 12 行."""
        page, on_page = self.locate(line)
        if not line:
            return ""
        return f"第 {page} 頁第 {on_page} 行" if page else f"第 {line} 行"

    def warning_json(self, w):
        page, on_page = self.locate(w.line)
        return {"line": on_page, "page": page, "message": w.message}

    def warn(self, line, message):
        self.warnings.append(Warning(line, message))

    def keep(self, key, text, line=None):
        self.notes.setdefault(key, []).append(text)
        self.note_lines.setdefault(key, []).append(line)

    @property
    def item_count(self):
        def count(items):
            return sum(1 + count(i.children) for i in items)

        return sum(count(d.items) for d in self.divisions)

    def as_json(self):
        """The shape `import_minutes --dry-run --json` prints (docs/meetings.md)."""
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
            # line: of the page when there are pages (a PDF), else of the text
            "warnings": [self.warning_json(w) for w in self.warnings],
        }
