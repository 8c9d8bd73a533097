"""Lines of extracted text: debris removed, sentences that a page break cut joined again.

What publishing and extraction leave in the text is undone line by line, keeping each piece's
source line number (a warning names the line the reader sees in the original):
- markdown (front matter between `---` lines, `**bold**`, `### headings`, `---` rules) and HTML
  (`<br />`, `<p>`, entities) are read as their text; a `<br>` inside a line ends a line;
- characters drawn several times for bold (`紀紀紀紀錄錄錄錄`) are read once;
- a whole document on one line (line breaks lost) is cut again before each heading and label.
"""

import html
import re
import unicodedata
from dataclasses import dataclass

TERMINAL = tuple("。；：！？!?;:」』）)")
SEPARATOR_ROW = re.compile(r"^[\s\-–—|:＝=]+$")
DEBRIS_BULLET = re.compile(r"^\s*[-•・]\s*$")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+)>")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\((?:https?://|/|#)[^)\s]*\)")
_BULLET = re.compile(r"^\s*[-•・*+●○◆■□▪]\s+")
_LINE_BREAK_TAG = re.compile(r"<\s*(?:br|/p|p|/div|div|/li|li|/tr|/h\d)\b[^>]*>", re.I)
_TAG = re.compile(r"</?\s*[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_MD_EMPHASIS = re.compile(r"\*\*(?=\S)|(?<=\S)\*\*")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_NAME_TAG = re.compile(r"\[name=[^\]]*\]")
_STRIKE = re.compile(r"~~")
_FORMAL_HEADING = re.compile(
    r"^(?:[壹貳參叁肆伍陸柒捌玖拾]+\s*[、．.]|[甲乙丙丁戊己庚辛壬癸]\s*、\s*[^\d:：]{1,12}$)"
)
_MD_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_FENCE = re.compile(r"^\s*(?::::+|```+)\s*\S*\s*$")
_FRONT_KEY = re.compile(r"^\s*(?:[A-Za-z_][\w-]*\s*:|-\s)")
_FRONT_TITLE = re.compile(r"^\s*title\s*:\s*[\"']?(.*?)[\"']?\s*$")

# Where a run-on line (a document that lost its line breaks) is cut: before a numbered heading
# and before the labels that start a line in minutes.
_RUN_ON_LIMIT = 80
_RUN_ON_CUT = re.compile(
    r"(?<=\S)\s*(?="
    r"[壹貳參叁肆伍陸柒捌玖拾]+\s*[、．.]"
    r"|(?<![\d一二三四五六七八九十])[一二三四五六七八九十]+\s*、"
    r"|(?:會議|開會)?(?:時\s*間|地\s*點|日\s*期)\s*[:：]"
    r"|(?:主\s*席|主\s*持\s*人|紀\s*錄|記\s*錄|出\s*席|列\s*席)\s*[:：]"
    r"|案\s*由\s*[一二三四五六七八九十\d]*\s*[:：]|說\s*明\s*[:：]|決\s*議\s*[:：]"
    r"|臨\s*時\s*動\s*議|散\s*會)"
)


def key_of(text):
    """The matching key of a label: NFKC (full-width → half-width) and no spaces at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@dataclass
class Line:
    number: int
    raw: str  # as written, minus trailing spaces (markup removed)
    text: str  # debris removed, stripped
    heading: bool = False  # a markdown heading (### …) or a 壹、/甲、 heading of no known section
    bullet: bool = False  # the line started with a bullet (- • *)
    indent: int = 0  # spaces before the text or its bullet


def collapse_repeats(text):
    """`紀紀紀紀錄錄錄錄` → `紀錄`: a run of two or more characters each repeated the same number
    of times (3+, or 2 when there are 3+ such characters) is bold drawn several times."""
    runs = [(m.group()[0], len(m.group())) for m in re.finditer(r"(.)\1*", text, re.S)]
    out, i = [], 0
    while i < len(runs):
        ch, k = runs[i]
        j = i
        while j + 1 < len(runs) and runs[j + 1][1] == k and not runs[j + 1][0].isspace():
            j += 1
        count = j - i + 1
        cjk = all("\u3400" <= c <= "\u9fff" for c, _ in runs[i : j + 1])
        if k >= 2 and cjk and ((k >= 3 and count >= 2) or count >= 3):
            out.extend(c for c, _ in runs[i : j + 1])
            i = j + 1
            continue
        out.append(ch * k)
        i += 1
    return "".join(out)


def split_run_on(text):
    """A very long line with several headings or labels in it: cut before each of them."""
    if len(text) < _RUN_ON_LIMIT:
        return [text]
    pieces = []
    for piece in _RUN_ON_CUT.split(text):
        if not piece.strip():
            continue
        if pieces and re.fullmatch(
            r"\s*[壹貳參叁肆伍陸柒捌玖拾一二三四五六七八九十]+\s*[、．.]\s*", pieces[-1]
        ):
            pieces[-1] += piece  # 五、 cut from its 臨時動議
        else:
            pieces.append(piece)
    return pieces if len(pieces) >= 3 else [text]


def _front_matter(raw_lines):
    """Line indexes of a YAML front matter block at the top (`---` … `---`), and its title."""
    first = next((i for i, line in enumerate(raw_lines) if line.strip()), None)
    if first is None or raw_lines[first].strip() != "---":
        return set(), None
    title = None
    for end in range(first + 1, min(len(raw_lines), first + 60)):
        line = raw_lines[end]
        if line.strip() == "---":
            return set(range(first, end + 1)), title
        if line.strip() and not _FRONT_KEY.match(line) and not line.startswith((" ", "\t")):
            return set(), None
        m = _FRONT_TITLE.match(line)
        if m and title is None:
            title = m[1].strip()
    return set(), None


def _unmark(raw):
    """One source line without its markup: [pieces of text] (a <br> inside it ends a piece)."""
    raw = _AUTOLINK.sub(r"\1", raw)
    raw = _MD_LINK.sub(r"\1", raw)
    raw = _NAME_TAG.sub("", _STRIKE.sub("", raw))
    if raw.lstrip().startswith("![]("):
        return [""]  # an image
    pieces = _LINE_BREAK_TAG.split(raw)
    out = []
    for piece in pieces:
        piece = _TAG.sub("", piece)
        if "&" in piece:
            piece = html.unescape(piece).replace("\xa0", " ")
        if _MD_RULE.match(piece) or _FENCE.match(piece):
            piece = ""
        heading = bool(_MD_HEADING.match(piece)) and piece.lstrip().startswith("#")
        piece = _MD_HEADING.sub("", piece)
        piece = _MD_EMPHASIS.sub("", piece)
        piece = collapse_repeats(piece).rstrip()
        out.append((piece, heading))
    return [p for p in out if p[0].strip()] or [("", False)]


def lines(text):
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    skip, title = _front_matter(raw_lines)
    for number, raw in enumerate(raw_lines, 1):
        raw = raw.replace("\f", "")  # a page break (result.PAGE_BREAK): the parser counts pages
        if number - 1 in skip:
            if title and raw.lstrip().startswith("title"):
                yield Line(number, title, title)
            continue
        if "\t" not in raw:
            raw = raw.replace("\u2028", " ")  # a one-cell row's line breaks
        for piece, heading in _unmark(raw.rstrip()):
            for part in split_run_on(piece) if "\t" not in piece else [piece]:
                clean = _BULLET.sub("", part) if "\t" not in part else part
                bullet = clean != part
                indent = len(part) - len(part.lstrip(" \u3000"))
                clean = clean.strip(" \u3000")
                heading = heading or bool(_FORMAL_HEADING.match(clean))
                yield Line(number, part.rstrip(), clean, heading, bullet, indent)


def joins(previous, following):
    """Is `following` the rest of a sentence that a page break cut after `previous`?"""
    return bool(previous) and not previous.rstrip().endswith(TERMINAL)


def append(existing, addition):
    if not existing:
        return addition
    if joins(existing, addition):
        return existing + addition
    return existing + "\n" + addition
