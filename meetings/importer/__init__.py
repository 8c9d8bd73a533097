"""Read the text of a minutes document (pasted, or extracted from .docx, .pdf or .html) into
structure.

Pure: no database. `parse(text)` returns a `ParseResult`; `text_from_upload(data, filename)`
turns an uploaded file into text or refuses it with a Chinese message (`ImportRejected`).

What real minutes look like after PDF or Word extraction, and what this package does about it:
- full- and half-width punctuation, labels with spaces between the characters (主 席, 紀　錄):
  labels are matched on a key with NFKC applied and all spaces removed; values keep their text;
- headings with or without numbering (壹、會議時間 / 會議時間): matched by their label, and only
  in the official order, so a sentence that happens to start with 時間 inside a report is text;
- tables flattened to tab-separated lines, broken across page breaks: a row whose first cells are
  empty continues the cells of the row before it;
- a sentence cut by a page break (a line not ending in 。；：！？) continues on the next line;
- extraction debris (markdown bullets "- ", <https://…> brackets, "--" rows) is not content;
- what cannot be placed is kept, as text, in the nearest section and reported with its line
  number. Nothing is dropped silently.

One module per part of the minutes, each reading the lines of its own sections:
- `upload.py` – a .txt, .html, .docx (tables, automatic numbering) or text .pdf file into text;
- `dates.py` – dates and times as minutes write them (ROC, Chinese numerals, dropped characters);
- `text.py` – lines, sentences cut by a page break, the matching key of a label;
- `sections.py` – the sections in the official order and how a heading is recognised;
- `header.py` – the title and the one-line fields (時間, 地點, 主持人, 出席人員, 主席致詞);
- `tables.py` – 上次會議追蹤列管事項 and 新追蹤列管事項;
- `reports.py` – 業務報告: divisions and the tree of numbered items;
- `motions.py` – 提案討論 and 臨時動議;
- `adjourn.py` – 散會, and whatever follows it;
- `parser.py` – hands each line to the section it belongs to, and the checks at the end;
- `moves.py` – a paragraph moved to another section, item or motion on the preview.
"""

from .moves import MoveRefused, move_targets, moves_apply, paragraph_move
from .parser import parse
from .preview import preview_blocks
from .reports import DEFAULT_DIVISIONS
from .result import (
    ImportRejected,
    ParsedDivision,
    ParsedItem,
    ParsedMotion,
    ParseResult,
    Warning,
)
from .sections import SECTIONS
from .text import key_of
from .upload import (
    MAX_BYTES,
    MAX_PDF_BYTES,
    docx_text,
    html_text,
    is_pdf,
    pdf_text,
    text_from_upload,
)

__all__ = [
    "DEFAULT_DIVISIONS",
    "MAX_BYTES",
    "MAX_PDF_BYTES",
    "SECTIONS",
    "ImportRejected",
    "MoveRefused",
    "ParseResult",
    "ParsedDivision",
    "ParsedItem",
    "ParsedMotion",
    "Warning",
    "docx_text",
    "html_text",
    "is_pdf",
    "pdf_text",
    "key_of",
    "move_targets",
    "moves_apply",
    "paragraph_move",
    "parse",
    "preview_blocks",
    "text_from_upload",
]
