"""Lines of extracted text: debris removed, sentences that a page break cut joined again."""

import re
import unicodedata
from dataclasses import dataclass

TERMINAL = tuple("。；：！？!?;:」』）)")
SEPARATOR_ROW = re.compile(r"^[\s\-–—|:＝=]+$")
DEBRIS_BULLET = re.compile(r"^\s*[-•・]\s*$")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+)>")
_BULLET = re.compile(r"^\s*[-•・*]\s+")


def key_of(text):
    """The matching key of a label: NFKC (full-width → half-width) and no spaces at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@dataclass
class Line:
    number: int
    raw: str  # as written, minus trailing spaces
    text: str  # debris removed, stripped


def lines(text):
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        raw = raw.rstrip()
        clean = _BULLET.sub("", raw) if "\t" not in raw else raw
        clean = _AUTOLINK.sub(r"\1", clean).strip(" \u3000")
        yield Line(number, raw, clean)


def joins(previous, following):
    """Is `following` the rest of a sentence that a page break cut after `previous`?"""
    return bool(previous) and not previous.rstrip().endswith(TERMINAL)


def append(existing, addition):
    if not existing:
        return addition
    if joins(existing, addition):
        return existing + addition
    return existing + "\n" + addition
