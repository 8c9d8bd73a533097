"""Moving a paragraph of the parsed minutes to where it belongs, as the bureau asks on the preview.

A paragraph is named by where it is now (the preview gives each movable block this name):
- `note:<section>:<n>` – text kept in a section because it could not be placed;
- `item:<division>:<i>.<j>…` – a report item (with the items under it), by its position;
- `motion:<n>:explanation`, `motion:<n>:resolution` – a motion's 說明 or 決議.
A target is a section (`section:<key>`: 主席致詞 takes it as a paragraph, the others keep it as
their text), a division (`division:<d>`: a new item at its end), a report item (`item:…`: a new
item under it) or a motion's 說明/決議 (appended).

Moves are stored as a list of [paragraph, target] and replayed in order on a fresh parse of the
same text (each names positions as the preview before it showed them), so the preview and the
save both see the same minutes. Nothing is dropped: an item moved into text keeps its sub-items'
text, and the warnings of a moved line stay, with one more saying where the bureau put it.
"""

from .result import ImportRejected, ParsedItem
from .sections import SECTIONS

_LABELS = {spec.key: spec.labels[0] for spec in SECTIONS}
# the sections that take moved text; the header's one-line fields are corrected in their form
TEXT_SECTIONS = ("remarks", "attendance", "tracked", "new_tracked", "reports", "proposals",
                 "extempore", "adjourn")  # fmt: skip
MOTION_FIELDS = {"explanation": "說明", "resolution": "決議"}


class MoveRefused(ImportRejected):
    """The paragraph or the target does not exist (any more), or the move makes no sense."""


def _motion_label(result, n):
    motion = result.motions[n]
    same = [m for m in result.motions if m.kind == motion.kind]
    kind = "提案" if motion.kind == "proposal" else "臨時動議"
    number = same.index(motion) + 1
    return f"{kind}第 {number} 案「{(motion.subject or '（無案由）')[:12]}」"


def _walk(items, path=()):
    for i, item in enumerate(items):
        yield path + (i,), item
        yield from _walk(item.children, path + (i,))


def move_targets(result):
    """[(target, label)] in the order of the minutes: where a paragraph can be moved to."""
    out = []
    for key in TEXT_SECTIONS:
        if key == "reports":
            out.append(("section:reports", f"{_LABELS[key]}（未歸類的文字）"))
            for d, division in enumerate(result.divisions):
                name = division.name or "（未寫組別）"
                out.append((f"division:{d}", f"業務報告／{name}（最後新增一項）"))
                for path, item in _walk(division.items):
                    where = ".".join(map(str, path))
                    out.append((f"item:{d}:{where}",
                                f"業務報告／{name}／{item.marker}{item.text[:14]}（其下新增一項）"))  # fmt: skip
        elif key in ("proposals", "extempore"):
            out.append((f"section:{key}", f"{_LABELS[key]}（未歸類的文字）"))
            kind = "proposal" if key == "proposals" else "extempore"
            for n, motion in enumerate(result.motions):
                if motion.kind != kind:
                    continue
                for field, label in MOTION_FIELDS.items():
                    out.append((f"motion:{n}:{field}", f"{_motion_label(result, n)}的{label}"))
        elif key == "remarks":
            out.append(("section:remarks", f"{_LABELS[key]}（新的一段）"))
        else:
            out.append((f"section:{key}", f"{_LABELS[key]}（未歸類的文字）"))
    return out


def _item_at(result, d, where):
    try:
        items = result.divisions[int(d)].items
        path = [int(i) for i in where.split(".")]
        parent, item = None, None
        for i in path:
            if i < 0:
                raise IndexError
            parent, item = items, items[i]
            items = item.children
        return parent, item
    except (IndexError, ValueError):
        return None, None


def _flatten(item):
    return [item.text] + [t for child in item.children for t in _flatten(child)]


def _resolve_target(result, target):
    """A callable that puts (text, line, item) there, and the target's label; checked before
    the paragraph is taken, so the positions are those the preview showed."""
    labels = dict(move_targets(result))
    if target not in labels:
        raise MoveRefused("找不到要移到的位置（預覽可能已更新），請重新選擇。")
    kind, _, rest = target.partition(":")
    if kind == "section":

        def put(text, line, item):
            texts = _flatten(item) if item else [text]
            if rest == "remarks":
                result.chair_remarks = "\n".join(filter(None, [result.chair_remarks, *texts]))
            else:
                for t in texts:
                    result.keep(rest, t, line)

        return put, labels[target], None
    if kind in ("division", "item"):
        if kind == "division":
            owner, children = None, result.divisions[int(rest)].items
        else:
            d, _, where = rest.partition(":")
            _parent, owner = _item_at(result, d, where)
            children = owner.children

        def put(text, line, item):
            children.append(item or ParsedItem(text=text, line=line or 0))

        return put, labels[target], owner
    n, _, field = rest.partition(":")
    motion = result.motions[int(n)]

    def put(text, line, item):
        texts = _flatten(item) if item else [text]
        setattr(motion, field, "\n".join(filter(None, [getattr(motion, field), *texts])))

    return put, labels[target], None


def _take(result, paragraph):
    """Remove the paragraph from where it is: (text, line, item or None)."""
    kind, _, rest = paragraph.partition(":")
    missing = MoveRefused("找不到要移動的段落（預覽可能已更新），請重新選擇。")
    if kind == "note":
        key, _, n = rest.rpartition(":")
        texts = result.notes.get(key) or []
        try:
            n = int(n)
            text = texts[n]
        except (ValueError, IndexError):
            raise missing from None
        lines = result.note_lines.get(key) or []
        line = lines[n] if n < len(lines) else None
        del texts[n]
        if n < len(lines):
            del lines[n]
        return text, line, None
    if kind == "item":
        d, _, where = rest.partition(":")
        parent, item = _item_at(result, d, where)
        if item is None:
            raise missing
        parent.remove(item)
        return item.text, item.line, item
    if kind == "motion":
        n, _, field = rest.partition(":")
        try:
            motion = result.motions[int(n)]
        except (ValueError, IndexError):
            raise missing from None
        if field not in MOTION_FIELDS or not getattr(motion, field):
            raise missing
        text = getattr(motion, field)
        setattr(motion, field, "")
        return text, motion.line, None
    raise missing


def paragraph_move(result, paragraph, target):
    """Move one paragraph of a ParseResult to a target (see the module's docstring); raises
    MoveRefused with a Chinese message and changes nothing when it cannot."""
    put, label, owner = _resolve_target(result, target)
    if paragraph == target:
        raise MoveRefused("段落不能移到它自己底下。")
    if owner is not None and paragraph.startswith("item:"):
        d, _, where = paragraph[5:].partition(":")
        _parent, item = _item_at(result, d, where)
        if item is not None and any(i is owner for _p, i in _walk([item])):
            raise MoveRefused("段落不能移到它自己底下的項目。")
    text, line, item = _take(result, paragraph)
    put(text, line, item)
    result.warn(line, f"已依您的指示移到「{label}」。")
    return result


def moves_apply(result, moves):
    """Replay the bureau's moves, in order."""
    for paragraph, target in moves or ():
        paragraph_move(result, paragraph, target)
    return result
