"""The agenda (議程) of a coming meeting, in the official numbering: what the notice sends and
the agenda page shows. Built from structure on every read, like the minutes."""

from dataclasses import dataclass, field

from .numbering import motion_label, section_label
from .proposal_models import Proposal

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


def proposal_lines(proposals):
    """案由一：…（提案單位：板橋分區）, in the bureau's order."""
    return [
        f"{motion_label('案由', n, len(proposals))}：{p.subject}（提案單位：{p.district.name}）"
        for n, p in enumerate(proposals, start=1)
    ]


def agenda_of(meeting):
    sections = [
        AgendaSection(key=key, label=section_label(n), title=title)
        for n, (key, title) in enumerate(PARTS, start=1)
    ]
    accepted = list(
        Proposal.objects.filter(meeting=meeting, state=Proposal.State.ACCEPTED)
        .select_related("district")
        .order_by("position", "id")
    )
    by_key = {s.key: s for s in sections}
    by_key["proposals"].lines = proposal_lines(accepted) or ["（無）"]
    return sections


def as_text(meeting, sections):
    lines = [f"{meeting.title}議程"]
    for section in sections:
        lines.append(section.heading)
        lines.extend(section.lines)
    return "\n".join(lines) + "\n"
