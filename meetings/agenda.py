"""The agenda (議程) of a coming meeting, in the official numbering: what the notice sends and
the agenda page shows. Built from structure on every read, like the minutes."""

from dataclasses import dataclass, field

from portal import rocdate
from portal.models import Division

from . import hooks
from .models import ReportItem
from .numbering import item_label, motion_label, section_label
from .proposal_models import Proposal

NOT_FILLED = "（尚未填寫）"

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


def tracked_lines(rows):
    """The open tracked items the meeting reviews (carried into it by tracking/, read through
    hooks.minutes_tables), each with its division's latest 辦理情形."""
    lines = []
    for n, row in enumerate(rows, start=1):
        status = row.get("current_status") or row.get("previous_status") or ""
        line = f"{item_label(0, n)}{row['case_no']} {row['subject']}"
        lines.append(line + (f"（最近辦理情形：{status}）" if status else ""))
    return lines


def report_lines(divisions, items):
    """一、資訊推廣組 then its top-level items (一)(二)… – one slot per division, filled by its
    staff before the meeting (NOT_FILLED until then)."""
    by_division = {}
    for item in items:
        if item.parent_id is None:
            by_division.setdefault(item.division_id, []).append(item)
    lines = []
    for n, division in enumerate(divisions, start=1):
        lines.append(f"{item_label(0, n)}{division.name}")
        own = by_division.get(division.pk, [])
        lines += [f"　{item_label(1, k)}{item.text}" for k, item in enumerate(own, start=1)]
        if not own:
            lines.append(f"　{NOT_FILLED}")
    return lines


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
    by_key["previous"].lines = tracked_lines(hooks.minutes_tables(meeting)["previous"]) or [
        "（無）"
    ]
    items = ReportItem.objects.filter(meeting=meeting).order_by("position", "id")
    by_key["reports"].lines = report_lines(list(Division.objects.order_by("position")), items)
    by_key["proposals"].lines = proposal_lines(accepted) or ["（無）"]
    return sections


def as_docx(meeting, sections):
    """The agenda as a Word document, in the minutes' page and font (rendering.as_docx)."""
    import io

    import docx
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = docx.Document()
    page = doc.sections[0]
    page.page_width, page.page_height = Cm(21), Cm(29.7)
    page.left_margin, page.right_margin = Cm(2.5), Cm(2)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    normal.font.name = "標楷體"
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "標楷體")
    title = doc.add_paragraph()
    run = title.add_run(f"{meeting.title}議程")
    run.bold, run.font.size = True, Pt(16)
    when = rocdate.format_date(meeting.held_on) + rocdate.format_time(meeting.start_time)
    doc.add_paragraph(f"會議時間：{when}")
    doc.add_paragraph(f"會議地點：{meeting.place}")
    doc.add_paragraph(f"主持人：{meeting.chair}　紀錄：{meeting.recorder}")
    for section in sections:
        doc.add_paragraph().add_run(section.heading).bold = True
        for line in section.lines:
            doc.add_paragraph(line).paragraph_format.left_indent = Cm(0.8)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def as_text(meeting, sections):
    lines = [f"{meeting.title}議程"]
    for section in sections:
        lines.append(section.heading)
        lines.extend(section.lines)
    return "\n".join(lines) + "\n"
