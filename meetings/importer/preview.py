"""The import preview: the minutes as they will look once saved, block by block in the official
order, each block with its source line and the warnings about the lines it came from.

`preview_blocks(result)` is plain data (it is stored on the preview job): a list of
{"kind", "label", "text", "line", "where", "depth", "field", "move", "warnings"} – kind is title, heading,
field, item, motion, row or note; `field` names the header field a block shows, `move` the
paragraph's name for moving it (importer/moves.py), empty when it cannot be moved; `where` says
the line as a person finds it (第 3 頁第 12 行 in a PDF) – and the
warnings that concern no line (of the whole document)."""

from portal import rocdate

from .sections import SECTIONS

_FORMAL = "壹貳參肆伍陸柒捌玖拾"
_LABELS = {spec.key: spec.labels[0] for spec in SECTIONS}
_LABELS["chair"] = "主持人"
_MISSING = "（未讀到）"
_CHINESE = "一二三四五六七八九十"


def _number(n, digits=_FORMAL):
    if n <= 10:
        return digits[n - 1]
    return digits[9] + (digits[(n - 1) % 10] if n % 10 else "")


def _block(kind, text, line=None, label="", depth=0, field="", move=""):
    return {"kind": kind, "label": label, "text": text or "", "line": line, "depth": depth,
            "field": field, "move": move, "warnings": []}  # fmt: skip


def preview_blocks(result):
    """(blocks, warnings of the whole document) for a ParseResult."""
    r = result
    lines = {}
    for key, _written, line in r.top_sections:
        lines.setdefault(key, line)
    blocks, shown = [], set()
    if r.organiser:
        blocks.append(_block("title", r.organiser))
    blocks.append(_block("title", f"{r.title}紀錄" if r.title else _MISSING, field="title"))
    notes(blocks, r, shown, "header")
    n = 0

    def heading(key, value=""):
        nonlocal n
        n += 1
        label = f"{_number(n)}、{_LABELS[key]}"
        blocks.append(_block("heading", value, lines.get(key), label=label))

    when = _MISSING
    if r.held_on:
        when = rocdate.format_date(r.held_on) + (
            rocdate.format_time(r.start_time) if r.start_time else ""
        )
    heading("time", when)
    blocks[-1]["field"] = "held_on"
    notes(blocks, r, shown, "time")
    heading("place", r.place or _MISSING)
    blocks[-1]["field"] = "place"
    notes(blocks, r, shown, "place")
    heading("chair", r.chair or _MISSING)
    blocks[-1]["field"] = "chair"
    blocks.append(_block("field", r.recorder or _MISSING, lines.get("recorder"), label="紀錄",
                         field="recorder"))  # fmt: skip
    notes(blocks, r, shown, "chair")
    notes(blocks, r, shown, "recorder")
    heading("attendance", r.attendance_note or "")
    notes(blocks, r, shown, "attendance")
    if r.chair_remarks or "remarks" in lines:
        heading("remarks", "")
        for paragraph in (r.chair_remarks or "").split("\n"):
            blocks.append(_block("note", paragraph, lines.get("remarks"), depth=1))
        notes(blocks, r, shown, "remarks")
    for key, rows, columns in (
        (
            "tracked",
            r.tracked_items,
            ("subject", "previous_status", "current_status", "resolution"),
        ),
        ("new_tracked", r.new_tracked_items, ("subject",)),
    ):
        if not rows and key not in lines:
            continue
        heading(key, "" if rows else "無")
        for row in rows:
            text = " ／ ".join(row.get(c) or "" for c in columns if row.get(c))
            blocks.append(_block("row", text, lines.get(key), label=row.get("case_no") or "",
                                 depth=1))  # fmt: skip
        notes(blocks, r, shown, key)
    if r.divisions or "reports" in lines:
        heading("reports")
        for d, division in enumerate(r.divisions, 1):
            blocks.append(_block("item", division.name or "（未寫組別）", division.line,
                                 label=f"{_number(d, _CHINESE)}、", depth=1))  # fmt: skip
            _items(blocks, division.items, 2, f"item:{d - 1}:")
        notes(blocks, r, shown, "reports")
    for key, kind in (("proposals", "proposal"), ("extempore", "extempore")):
        motions = [m for m in r.motions if m.kind == kind]
        if not motions and key not in lines:
            continue
        heading(key, "" if motions else "無")
        for i, m in enumerate(motions, 1):
            label = "案由" if len(motions) == 1 else f"案由{_number(i, _CHINESE)}"
            blocks.append(_block("motion", m.subject, m.line, label=label, depth=1))
            n = r.motions.index(m)
            if m.explanation:
                blocks.append(_block("field", m.explanation, None, label="說明", depth=2,
                                     move=f"motion:{n}:explanation"))  # fmt: skip
            blocks.append(_block("field", m.resolution or _MISSING, None, label="決議", depth=2,
                                 move=f"motion:{n}:resolution" if m.resolution else ""))  # fmt: skip
        notes(blocks, r, shown, key)
        if key == "extempore":
            notes(blocks, r, shown, "todo")
    heading("adjourn", f"（{rocdate.format_time(r.adjourned_time)}）" if r.adjourned_time else "")
    notes(blocks, r, shown, "adjourn")
    for key in list(r.notes):
        notes(
            blocks, r, shown, key
        )  # any other part's kept text: nothing is left out of the preview
    for b in blocks:
        b["where"] = r.where(b["line"])
    whole = _place_warnings(blocks, r.warnings, r.where)
    return blocks, whole


def notes(blocks, r, shown, key):
    shown = r.__dict__.setdefault("_previewed", set())
    if key in shown:
        return
    shown.add(key)
    texts = r.notes.get(key, [])
    lines = r.note_lines.get(key, [])
    for i, text in enumerate(texts):
        line = lines[i] if i < len(lines) else None
        blocks.append(_block("note", text, line, label="未歸類", depth=1, move=f"note:{key}:{i}"))


def _items(blocks, items, depth, path):
    for i, item in enumerate(items):
        blocks.append(_block("item", item.text, item.line, label=item.marker, depth=depth,
                             move=f"{path}{i}"))  # fmt: skip
        _items(blocks, item.children, depth + 1, f"{path}{i}.")


def _place_warnings(blocks, warnings, where):
    """Each warning beside the block its line belongs to: the block of that very line, else the
    nearest block above it in the source."""
    placed = sorted(
        ((b["line"], i) for i, b in enumerate(blocks) if b["line"]), key=lambda p: (p[0], p[1])
    )
    whole = []
    for w in warnings:
        if not w.line or not placed:
            whole.append({"line": w.line, "where": where(w.line), "message": w.message})
            continue
        exact = [i for line, i in placed if line == w.line]
        above = [i for line, i in placed if line <= w.line]
        target = exact[0] if exact else (above[-1] if above else placed[0][1])
        blocks[target]["warnings"].append(
            {"line": w.line, "where": where(w.line), "message": w.message}
        )
    return whole
