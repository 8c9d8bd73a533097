"""The minutes in the official layout – one document model, three renderings.

`build(meeting, items, motions, tables)` turns the stored structure into a `Document` of numbered
sections (numbers computed by numbering.py); the meeting page (template), the plain-text export
(`as_text`), the .docx export (`as_docx`) and the search index all read that one Document, so they
cannot disagree about a number.
"""

import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from portal import rocdate

from . import hooks, numbering

PREVIOUS_COLUMNS = (
    ("case_no", "案號"),
    ("subject", "案由"),
    ("previous_status", "前次辦理情形"),
    ("current_status", "現辦理情形"),
    ("resolution", "決議"),
)
NEW_COLUMNS = (("case_no", "案號"), ("subject", "案由"))


def _cell(row, key):
    """A cell of the tracked-items tables; the 案號 cell is the row's number as the minutes print
    it (「1.」) with the portal's case number beside it: 「1.（108-09-01）」."""
    value = row.get(key) or ""
    if key == "case_no" and row.get("number") and value:
        return f"{row['number']}（{value}）"
    return value


@dataclass
class AttachmentRef:
    """An attached file or link (to a survey, say) as the minutes show it."""

    anchor: str
    label: str  # 附件 (under an item or motion) / 附件一 (of the whole meeting)
    title: str
    href: str  # on the page (site-relative)
    note: str  # PDF，1.2 MB / 線上調查表

    @property
    def absolute(self):
        """For the exports, read outside the site."""
        return self.href if "://" in self.href else f"{settings.SITE_URL}{self.href}"

    @property
    def line(self):
        return f"{self.label}：{self.title}（{self.absolute}）"


@dataclass
class Entry:
    """A numbered paragraph of the business report (a division at depth 0, items below)."""

    anchor: str
    label: str
    text: str
    depth: int
    children: list = field(default_factory=list)
    attachments: list = field(default_factory=list)

    @property
    def paragraphs(self):
        return self.text.split("\n")

    @property
    def item_pk(self):
        return int(self.anchor.split("-", 1)[1]) if self.anchor.startswith("item-") else None


@dataclass
class MotionEntry:
    anchor: str
    label: str  # 案由 / 案由一
    subject: str
    explanation: str
    resolution: str
    proposer: str
    attachments: list = field(default_factory=list)


@dataclass
class Table:
    headers: list
    rows: list  # [[cell, …]]

    @property
    def labelled_rows(self):
        """[[(header, cell), …], …] – the phone layout labels every cell with its column."""
        return [list(zip(self.headers, row, strict=False)) for row in self.rows]


@dataclass
class Section:
    key: str
    number: str  # 壹
    heading: str  # 會議時間
    colon: bool = True
    value: str = ""  # written right after the heading
    lines: list = field(default_factory=list)  # further paragraphs ("紀錄：…", remarks)
    table: Table | None = None
    entries: list = field(default_factory=list)
    motions: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # blocks: ("p", text) | ("table", Table)
    empty: bool = False  # 臨時動議：無

    @property
    def anchor(self):
        return f"sec-{self.key}"

    @property
    def title(self):
        """The heading line as written in the minutes: 壹、會議時間：108 年 …"""
        text = f"{self.number}、{self.heading}"
        if self.empty:
            return text + "：無"
        if self.colon:
            text += "："
        return text + self.value


@dataclass
class Document:
    organiser: str
    title: str  # 108 年度 9 月份聯席會議紀錄
    header_notes: list
    sections: list
    attachments: list = field(default_factory=list)  # of the whole meeting, after 散會


def clock(t):
    """下午 12:30 – the form the seed writes the adjournment in."""
    if t is None:
        return ""
    return f"{'上午' if t.hour < 12 else '下午'} {t.hour % 12 or 12}:{t.minute:02d}"


def when(meeting):
    text = rocdate.format_date(meeting.held_on, era=False)
    if meeting.start_time:
        text += rocdate.format_time(meeting.start_time)
    return text


def _note_blocks(lines):
    """Kept-but-unplaced text: consecutive tab-separated lines become one table."""
    blocks = []
    for line in lines or []:
        if "\t" in line:
            cells = [c.strip() for c in line.split("\t")]
            if blocks and blocks[-1][0] == "table":
                blocks[-1][1].rows.append(cells)
            else:
                blocks.append(("table", Table(headers=cells, rows=[])))
        else:
            blocks.append(("p", line))
    return blocks


def _attachment_refs(meeting, attachments):
    """{("item", pk) | ("motion", pk) | ("meeting", None): [AttachmentRef, …]} in their order.
    `attachments` have `linked` loaded."""
    from . import attachments as types

    grouped = {}
    for a in sorted(attachments, key=lambda a: (a.position, a.pk)):
        if a.linked_id is not None:
            kind = hooks.link_kind_of(type(a.linked)) if a.linked is not None else None
            if kind is None:
                continue  # its app is not installed: nothing a reader could open
            href, note = a.linked.get_absolute_url(), kind.note
        elif a.file:
            href = reverse("meetings:attachment", args=[meeting.pk, a.pk])
            kind = types.kind_of(a.content_type)
            note = f"{kind.label if kind else '檔案'}，{types.human_size(a.size)}"
        elif a.url.startswith(("https://", "http://")):
            href, note = a.url, "連結"
        else:
            continue  # nothing a reader could open
        key = (
            ("item", a.report_item_id) if a.report_item_id
            else ("motion", a.motion_id) if a.motion_id
            else ("meeting", None)
        )  # fmt: skip
        grouped.setdefault(key, []).append(
            AttachmentRef(f"attachment-{a.pk}", "附件", a.title, href, note)
        )
    for n, ref in enumerate(grouped.get(("meeting", None), []), start=1):
        ref.label = f"附件{numbering.plain(n)}"
    return grouped


def _report_entries(items, refs=None):
    """Group items by division and number them: 一、資訊推廣組 › (一) › 1、 › (1)."""
    by_division = {}
    for item in items:
        by_division.setdefault(item.division_id, (item.division, []))[1].append(item)
    divisions = sorted(by_division.values(), key=lambda pair: (pair[0].position, pair[0].pk))
    entries = []
    for d_index, (division, division_items) in enumerate(divisions, start=1):
        head = Entry(
            anchor=f"division-{division.pk}",
            label=numbering.item_label(0, d_index),
            text=f"{division.name}：",
            depth=0,
        )
        by_id = {item.pk: item for item in division_items}
        numbered = numbering.number_tree(
            [numbering.Node(i.pk, i.parent_id, i.position) for i in division_items], base_depth=1
        )
        stack = [head]
        for n in numbered:
            entry = Entry(
                f"item-{n.id}", n.label, by_id[n.id].text, n.depth + 1,
                attachments=(refs or {}).get(("item", n.id), []),
            )  # fmt: skip
            del stack[n.depth + 1 :]
            stack[-1].children.append(entry)
            stack.append(entry)
        entries.append(head)
    return entries


def _motions(motions, kind, refs=None):
    chosen = [m for m in motions if m.kind == kind]
    chosen.sort(key=lambda m: (m.position, m.pk))
    return [
        MotionEntry(
            anchor=f"motion-{m.pk}",
            label=numbering.motion_label("案由", i, len(chosen)),
            subject=m.subject,
            explanation=m.explanation,
            resolution=m.resolution,
            proposer=m.proposer,
            attachments=(refs or {}).get(("motion", m.pk), []),
        )
        for i, m in enumerate(chosen, start=1)
    ]


def attendance(meeting, attendees):
    """出席人員: the attending schools when the bureau ticked them, else the note (詳簽到表)."""
    if not attendees:
        return meeting.attendance_note
    schools = sorted(attendees, key=lambda s: (s.district.position, s.district_id, s.code))
    return "、".join(s.name for s in schools) + f"（共 {len(schools)} 校）"


def build(meeting, items, motions, tables, *, attendees=(), attachments=()):
    """The Document of one meeting. `items`: its ReportItems with `division` loaded; `motions`:
    its Motions; `tables`: hooks.minutes_tables(meeting) (tracking/ fills it); `attendees`: its
    attending Schools with `district` loaded; `attachments`: its Attachments with `linked`."""
    refs = _attachment_refs(meeting, attachments)
    notes = meeting.section_notes or {}
    remarks = (meeting.chair_remarks or "").split("\n")
    previous = tables.get("previous") or []
    new = tables.get("new") or []
    sections = [
        Section("time", "", "會議時間", value=when(meeting)),
        Section("place", "", "會議地點", value=meeting.place),
        Section(
            "chair",
            "",
            "主持人",
            value=meeting.chair,
            lines=[f"紀錄：{meeting.recorder}"] if meeting.recorder else [],
        ),
        Section("attendance", "", "出席人員", value=attendance(meeting, attendees)),
        Section("remarks", "", "主席致詞", value=remarks[0], lines=remarks[1:]),
        Section(
            "tracked",
            "",
            "上次會議追蹤列管事項",
            table=Table(
                [h for _k, h in PREVIOUS_COLUMNS],
                [[_cell(row, k) for k, _h in PREVIOUS_COLUMNS] for row in previous],
            )
            if previous
            else None,
            empty=not previous and not notes.get("tracked"),
        ),
        Section(
            "new_tracked",
            "",
            "新追蹤列管事項",
            colon=False,
            table=Table(
                [h for _k, h in NEW_COLUMNS],
                [[_cell(row, k) for k, _h in NEW_COLUMNS] for row in new],
            )
            if new
            else None,
            empty=not new and not notes.get("new_tracked"),
        ),
        Section("reports", "", "業務報告", entries=_report_entries(items, refs)),
        Section("proposals", "", "提案討論", motions=_motions(motions, "proposal", refs)),
        Section("extempore", "", "臨時動議", motions=_motions(motions, "extempore", refs)),
        Section(
            "adjourn",
            "",
            "散會",
            colon=False,
            value=f"({clock(meeting.adjourned_time)})" if meeting.adjourned_time else "",
        ),
    ]
    for index, section in enumerate(sections, start=1):
        section.number = numbering.formal(index)
        section.notes = _note_blocks(notes.get(section.key))
        if section.key in ("reports", "proposals", "extempore"):
            section.empty = not (section.entries or section.motions or section.notes)
    return Document(
        organiser=meeting.series.organiser if meeting.series_id else "",
        title=f"{meeting.title}紀錄",
        header_notes=_note_blocks(notes.get("header")),
        sections=sections,
        attachments=refs.get(("meeting", None), []),
    )


def walk_entries(entries):
    for entry in entries:
        yield entry
        yield from walk_entries(entry.children)


# --- plain text --------------------------------------------------------------------------------


def _note_lines(blocks):
    for kind, block in blocks:
        if kind == "p":
            yield block
        else:
            yield "\t".join(block.headers)
            for row in block.rows:
                yield "\t".join(row)


def as_text(document):
    """The minutes as plain text in the official order and numbering (UTF-8, one paragraph a
    line, tables tab-separated – pastes into Word and reads back through the importer)."""
    out = [document.organiser, "", document.title, ""]
    out += list(_note_lines(document.header_notes))
    for section in document.sections:
        out.append(section.title)
        out += section.lines
        if section.table:
            out.append("\t".join(section.table.headers))
            out += [
                "\t".join(cell.replace("\n", " ") for cell in row) for row in section.table.rows
            ]
        for entry in walk_entries(section.entries):
            indent = "  " * entry.depth
            first, *rest = entry.paragraphs
            out.append(f"{indent}{entry.label}{first}")
            out += [f"{indent}{p}" for p in rest]
            out += [f"{indent}{a.line}" for a in entry.attachments]
        for motion in section.motions:
            out.append(f"{motion.label}：{motion.subject}")
            if motion.proposer:
                out.append(f"提案單位：{motion.proposer}")
            if motion.explanation:
                out.append(f"說明：{motion.explanation}")
            out.append(f"決議：{motion.resolution}")
            out += [a.line for a in motion.attachments]
            out.append("")
        out += list(_note_lines(section.notes))
        out.append("")
    out += [a.line for a in document.attachments]
    return "\n".join(out).rstrip("\n") + "\n"


# --- .docx -------------------------------------------------------------------------------------


def as_docx(document):
    """The minutes as a Word document (A4, 標楷體 12 pt), same order and numbering."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = docx.Document()
    page = doc.sections[0]
    page.orientation = WD_ORIENT.PORTRAIT
    page.page_width, page.page_height = Cm(21), Cm(29.7)
    page.left_margin, page.right_margin = Cm(2.5), Cm(2)
    page.top_margin = page.bottom_margin = Cm(2)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    normal.font.name = "標楷體"
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "標楷體")

    def para(text, *, bold=False, size=None, center=False, indent=0):
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if indent:
            p.paragraph_format.left_indent = Cm(0.75 * indent)
        return p

    def table(t):
        grid = doc.add_table(rows=1, cols=len(t.headers))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, t.headers, strict=False):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in t.rows:
            cells = grid.add_row().cells
            for cell, text in zip(cells, row, strict=False):
                cell.text = text

    def notes(blocks):
        for kind, block in blocks:
            if kind == "p":
                para(block)
            else:
                table(block)

    para(document.organiser, bold=True, size=16, center=True)
    para(document.title, bold=True, size=16, center=True)
    notes(document.header_notes)
    for section in document.sections:
        para(section.title, bold=not section.value)
        for line in section.lines:
            para(line)
        if section.table:
            table(section.table)
        for entry in walk_entries(section.entries):
            first, *rest = entry.paragraphs
            para(f"{entry.label}{first}", bold=entry.depth == 0, indent=entry.depth)
            for p in rest:
                para(p, indent=entry.depth)
            for a in entry.attachments:
                para(a.line, indent=entry.depth)
        for motion in section.motions:
            para(f"{motion.label}：{motion.subject}")
            if motion.proposer:
                para(f"提案單位：{motion.proposer}")
            if motion.explanation:
                para(f"說明：{motion.explanation}")
            para(f"決議：{motion.resolution}")
            for a in motion.attachments:
                para(a.line)
        notes(section.notes)
    for a in document.attachments:
        para(a.line)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --- HTML helpers (used by the template filters) -----------------------------------------------

URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%()]+")
_TRAILING = ".,;:!?'"


def _split_url(raw):
    """Trim punctuation that ends a sentence rather than the URL, and an unbalanced ')'."""
    url = raw
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url, raw[len(url) :]


def linkify(text):
    """Escape the text, then turn http(s) URLs into links. Escaping comes first and every piece
    is escaped on its own, so nothing typed into the minutes can become markup."""
    text = "" if text is None else str(text)
    out, last = [], 0
    for m in URL.finditer(text):
        url, tail = _split_url(m.group())
        out.append(escape(text[last : m.start()]))
        href = escape(url)
        out.append(f'<a href="{href}" rel="noopener noreferrer">{href}</a>')
        out.append(escape(tail))
        last = m.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 – every piece above went through escape()
