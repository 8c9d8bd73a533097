"""The official numbering of minutes, computed from structure (nobody types a number).

Sections: 壹、貳、參、…、拾、拾壹、…  Inside a section (業務報告): 一、 (division), then
(一) → 1、 → (1) → 甲、 → (甲) → A、 → (A) for deeper items. Pure functions, no database.
"""

from collections.abc import Iterable
from dataclasses import dataclass

FORMAL_DIGITS = "零壹貳參肆伍陸柒捌玖"
PLAIN_DIGITS = "零一二三四五六七八九"
STEMS = "甲乙丙丁戊己庚辛壬癸"


class InvalidTree(ValueError):
    """The items do not form a tree (a missing parent, a cycle, a repeated id)."""


def _chinese(n, digits, ten):
    if n < 1:
        raise ValueError(f"numbering starts at 1, got {n}")
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        head = ten if tens == 1 else digits[tens] + ten
        return head + (digits[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        hundred = "佰" if digits is FORMAL_DIGITS else "百"
        head = digits[hundreds] + hundred
        if rest == 0:
            return head
        if rest < 10:
            return head + digits[0] + digits[rest]
        # 一百一十 (not 一百十) inside a larger number
        tens, ones = divmod(rest, 10)
        return head + digits[tens] + ten + (digits[ones] if ones else "")
    raise ValueError(f"numbering supports up to 999, got {n}")


def formal(n):
    """1 → 壹, 10 → 拾, 11 → 拾壹, 20 → 貳拾 (the section numerals of official documents)."""
    return _chinese(n, FORMAL_DIGITS, "拾")


def plain(n):
    """1 → 一, 10 → 十, 11 → 十一, 21 → 二十一."""
    return _chinese(n, PLAIN_DIGITS, "十")


def section_label(n):
    """壹、"""
    return f"{formal(n)}、"


def _stem(n):
    if n <= len(STEMS):
        return STEMS[n - 1]
    return plain(n)  # beyond 癸 the documents fall back to ordinary numerals


def _latin(n, base):
    label = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        label = chr(base + rest) + label
    return label


# depth 0 is the level directly under a section (業務報告's divisions)
_STYLES = [
    lambda n: f"{plain(n)}、",
    lambda n: f"({plain(n)})",
    lambda n: f"{n}、",
    lambda n: f"({n})",
    lambda n: f"{_stem(n)}、",
    lambda n: f"({_stem(n)})",
    lambda n: f"{_latin(n, 65)}、",
    lambda n: f"({_latin(n, 65)})",
    lambda n: f"{_latin(n, 97)}、",
    lambda n: f"({_latin(n, 97)})",
]


def item_label(depth, n):
    """The label of the n-th item (1-based) at `depth` (0 = 一、, 1 = (一), 2 = 1、, 3 = (1), …).
    Beyond the tenth level the last two styles alternate, so any depth has a label."""
    if depth < 0 or n < 1:
        raise ValueError("depth ≥ 0 and n ≥ 1")
    if depth >= len(_STYLES):
        depth = len(_STYLES) - 2 + (depth - len(_STYLES)) % 2
    return _STYLES[depth](n)


def motion_label(kind_word, n, count):
    """案由 when a section has one motion, 案由一 … 案由六 when it has several."""
    return kind_word if count == 1 else f"{kind_word}{plain(n)}"


@dataclass(frozen=True)
class Node:
    id: object
    parent_id: object
    position: int


@dataclass(frozen=True)
class Numbered:
    id: object
    depth: int  # 0 for roots
    label: str
    path: tuple  # (1, 2, 1) – the ordinal at each level, for sorting and anchors


def number_tree(nodes: Iterable, *, base_depth=0):
    """Number a forest of nodes (anything with id, parent_id, position), in pre-order.

    Siblings are ordered by (position, id); roots are those whose parent_id is None. The labels
    start at `base_depth` (1 for items directly under a division). Raises InvalidTree when a
    parent is missing, an id repeats, or the parent links form a cycle – a tree the renderer
    cannot number must never be shown with made-up numbers.
    """
    nodes = list(nodes)
    by_id = {}
    for node in nodes:
        if node.id in by_id:
            raise InvalidTree(f"項目 {node.id} 重複出現")
        by_id[node.id] = node
    children = {}
    for node in nodes:
        if node.parent_id is not None and node.parent_id not in by_id:
            raise InvalidTree(f"項目 {node.id} 的上層項目 {node.parent_id} 不存在")
        children.setdefault(node.parent_id, []).append(node)
    for siblings in children.values():
        siblings.sort(key=lambda n: (n.position, _sortable(n.id)))

    result = []
    seen = set()

    def walk(parent_id, depth, prefix):
        for ordinal, node in enumerate(children.get(parent_id, []), start=1):
            if node.id in seen:  # pragma: no cover – guarded by the reachability check below
                raise InvalidTree(f"項目 {node.id} 形成循環")
            seen.add(node.id)
            path = (*prefix, ordinal)
            result.append(Numbered(node.id, depth - base_depth, item_label(depth, ordinal), path))
            walk(node.id, depth + 1, path)

    walk(None, base_depth, ())
    if len(seen) != len(by_id):
        stuck = sorted((n for n in by_id if n not in seen), key=_sortable)
        raise InvalidTree(f"項目 {', '.join(map(str, stuck))} 形成循環，無法編號")
    return result


def _sortable(value):
    return (0, value) if isinstance(value, int) else (1, str(value))
