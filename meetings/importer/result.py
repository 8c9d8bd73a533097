"""What the importer returns: a `ParseResult`, or `ImportRejected` when the text is not minutes."""

from dataclasses import asdict, dataclass, field
from datetime import date, time


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
            "warnings": [asdict(w) for w in self.warnings],
        }
