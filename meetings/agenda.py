"""The agenda (議程) of a coming meeting, in the official numbering: what the notice sends and
the agenda page shows. Built from structure on every read, like the minutes."""

from dataclasses import dataclass, field

from .numbering import section_label

# The agenda's parts, in the order of the minutes they become.
PARTS = (
    ("chair", "主席致詞"),
    ("previous", "上次會議追蹤列管事項"),
    ("reports", "業務報告"),
    ("proposals", "提案討論"),
    ("extempore", "臨時動議"),
    ("adjourn", "散會"),
)


@dataclass
class AgendaSection:
    key: str
    label: str  # 壹、
    title: str
    lines: list = field(default_factory=list)

    @property
    def heading(self):
        return f"{self.label}{self.title}"


def agenda_of(meeting):
    return [
        AgendaSection(key=key, label=section_label(n), title=title)
        for n, (key, title) in enumerate(PARTS, start=1)
    ]


def as_text(meeting, sections):
    lines = [f"{meeting.title}議程"]
    for section in sections:
        lines.append(section.heading)
        lines.extend(section.lines)
    return "\n".join(lines) + "\n"
