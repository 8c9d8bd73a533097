"""An uploaded file (.txt, .html, .docx or .pdf) into text, or ImportRejected saying what it is
instead."""

import io
import re
import zipfile

from .result import PAGE_BREAK, ImportRejected

MAX_BYTES = 2 * 1024 * 1024  # minutes are tens of kilobytes; 2 MB is already a mistake
MAX_DOCX_UNZIPPED = 50 * 1024 * 1024
# A PDF carries fonts and images: a 200-page text PDF is a few MB
MAX_PDF_BYTES = 30 * 1024 * 1024
MAX_PDF_PAGES = 600
MAX_PDF_STREAM = 64 * 1024 * 1024  # one stream inflated
MAX_PDF_INFLATED = 256 * 1024 * 1024  # all streams inflated
MAX_UPLOAD_BYTES = MAX_PDF_BYTES


def is_pdf(data):
    return data[:1024].lstrip().startswith(b"%PDF-")


def text_from_upload(data: bytes, filename: str = "", *, progress=None):
    """The text of an uploaded file (.txt, .html, .docx or .pdf), or ImportRejected saying what
    it is. `progress(done, total)` is called per PDF page."""
    if not data or not data.strip():
        raise ImportRejected("檔案是空的，請貼上或上傳會議紀錄的內容。")
    if is_pdf(data):
        return pdf_text(data, progress=progress)
    if len(data) > MAX_BYTES:
        raise ImportRejected(
            f"檔案太大（{len(data) / 1024 / 1024:.1f} MB）；會議紀錄文字檔不會超過 "
            f"{MAX_BYTES // 1024 // 1024} MB，請確認選擇的是會議紀錄。"
        )
    if data[:4] == b"PK\x03\x04":
        return _text_from_zip(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportRejected(
            "這是舊版 Word 檔案（.doc，或舊版 Excel .xls），無法直接讀取：請用 Word 開啟，"
            "選「檔案 → 另存新檔」，存檔類型選「Word 文件 (*.docx)」，再上傳 .docx 檔。"
        )
    if b"\x00" in data[:4096]:
        raise ImportRejected("這不是文字檔（看起來是二進位檔案），請上傳 .txt 或 .docx。")
    for encoding in ("utf-8-sig", "cp950"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if looks_like_html(text, filename):
            return html_text(text)
        return text
    raise ImportRejected("無法辨識檔案的文字編碼，請存成 UTF-8 的 .txt 或 .docx。")


def _text_from_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ImportRejected("檔案已損毀，無法開啟。") from None
    if "xl/workbook.xml" in names:
        raise ImportRejected("這是試算表（Excel）檔案，不是會議紀錄；請上傳 .docx 或貼上文字。")
    if "ppt/presentation.xml" in names:
        raise ImportRejected("這是簡報檔案，不是會議紀錄；請上傳 .docx 或貼上文字。")
    if "word/document.xml" not in names:
        raise ImportRejected("這是壓縮檔，不是會議紀錄；請上傳 .docx 或貼上文字。")
    # A zip bomb: a small .docx that inflates to gigabytes. Judge the declared sizes before
    # python-docx inflates anything (a liar is caught by zipfile's own size check on reading).
    if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_UNZIPPED:
        raise ImportRejected("這個 .docx 解壓縮後超過 50 MB，不像會議紀錄；請確認檔案內容。")
    return docx_text(data)


CELL_BREAK = "\u2028"  # a line break inside a table cell (the row stays one line)


def docx_text(data):
    """Paragraphs and tables of a .docx in document order; table rows become tab-separated
    lines, the same shape as text copied out of Word. Word's automatic numbering (not in the
    text runs) is written out (一、 (一) 1.); a line break inside a cell is kept as CELL_BREAK;
    a merged cell's text is given once."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 – python-docx raises many kinds for a broken file
        raise ImportRejected("無法讀取這個 .docx 檔案，請確認檔案沒有損毀。") from None
    numbers = _Numbering(document)
    lines = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            lines.append(numbers.label(paragraph) + paragraph.text)
        elif tag == "tbl":
            above = {}
            for row in Table(child, document).rows:
                cells, seen = [], set()
                for column, cell in enumerate(row.cells):
                    if id(cell._tc) in seen:
                        cells.append("")  # merged across columns: its text is in the first
                        continue
                    seen.add(id(cell._tc))
                    text = CELL_BREAK.join(
                        numbers.label(p) + p.text for p in cell.paragraphs if p.text.strip()
                    )
                    text = text.replace("\n", CELL_BREAK)
                    if above.get(column) is cell._tc:
                        text = ""  # merged down the rows: its text is in the row above
                    above[column] = cell._tc
                    cells.append(text)
                lines.append("\t".join(cells))
            lines.append("")
    return "\n".join(lines)


_STEMS = "甲乙丙丁戊己庚辛壬癸"
_FORMAL = "零壹貳參肆伍陸柒捌玖"


def _chinese(n, digits="零一二三四五六七八九", ten="十"):
    if n < 10:
        return digits[n]
    if n < 20:
        return ten + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + ten + (digits[n % 10] if n % 10 else "")
    return str(n)


def _format(n, fmt):
    if fmt in ("decimal", "decimalZero"):
        return str(n) if fmt == "decimal" else f"{n:02d}"
    if fmt == "decimalFullWidth":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt.startswith(("taiwaneseCounting", "chineseCounting", "ideographDigital")):
        return _chinese(n)
    if fmt in ("ideographLegalTraditional", "chineseLegalSimplified"):
        return _chinese(n, _FORMAL, "拾")
    if fmt == "ideographTraditional":
        return _STEMS[(n - 1) % 10]
    if fmt in ("upperLetter", "lowerLetter"):
        letter = chr(ord("A") + (n - 1) % 26)
        return letter if fmt == "upperLetter" else letter.lower()
    if fmt in ("upperRoman", "lowerRoman"):
        roman = "I II III IV V VI VII VIII IX X XI XII".split()[(n - 1) % 12]
        return roman if fmt == "upperRoman" else roman.lower()
    return str(n)


class _Numbering:
    """Word's automatic list numbers: counters per list and level, as Word counts them."""

    def __init__(self, document):
        from docx.oxml.ns import qn

        self.qn = qn
        self.levels = {}  # numId → {ilvl: (numFmt, lvlText, start)}
        self.counters = {}  # abstract list → {ilvl: n}
        self.abstract_of = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstracts = {}
        for abstract in numbering.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in abstract.findall(qn("w:lvl")):
                levels[int(lvl.get(qn("w:ilvl")))] = (
                    self._val(lvl, "w:numFmt") or "decimal",
                    self._val(lvl, "w:lvlText") or "",
                    int(self._val(lvl, "w:start") or 1),
                )
            abstracts[abstract.get(qn("w:abstractNumId"))] = levels
        for num in numbering.findall(qn("w:num")):
            abstract_id = self._val(num, "w:abstractNumId")
            self.levels[num.get(qn("w:numId"))] = abstracts.get(abstract_id, {})
            self.abstract_of[num.get(qn("w:numId"))] = abstract_id

    def _val(self, element, tag):
        child = element.find(self.qn(tag))
        return child.get(self.qn("w:val")) if child is not None else None

    def _num_pr(self, paragraph):
        ppr = paragraph._p.pPr
        num_pr = ppr.numPr if ppr is not None else None
        style = paragraph.style
        while num_pr is None and style is not None:
            sppr = style.element.pPr
            num_pr = sppr.numPr if sppr is not None else None
            style = style.base_style
        return num_pr

    def label(self, paragraph):
        num_pr = self._num_pr(paragraph)
        if num_pr is None or num_pr.numId is None:
            return ""
        num_id = str(num_pr.numId.val)
        ilvl = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
        levels = self.levels.get(num_id)
        if not levels or num_id == "0" or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(self.abstract_of.get(num_id), {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][2] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]  # a new (一) starts its 1. again
        fmt, text, _start = levels[ilvl]
        if fmt == "bullet":
            return "• "
        if fmt == "none":
            return ""

        def number(m):
            level = int(m[1]) - 1
            lf, _t, ls = levels.get(level, ("decimal", "", 1))
            return _format(counters.get(level, ls), lf)

        return re.sub(r"%(\d)", number, text)


# --- HTML (a web page saved, or its source pasted) ---------------------------------------------

_HTML_START = re.compile(
    r"^\s*(?:<!doctype html|<html|<head|<body|<meta|<div|<table|<p[\s>])", re.I
)


def looks_like_html(text, filename=""):
    return filename.lower().endswith((".htm", ".html")) or bool(_HTML_START.match(text[:500]))


def html_text(text):
    """The text of an HTML page in reading order: block elements end lines, table cells are
    tab-separated, scripts and styles are dropped."""
    from html.parser import HTMLParser

    blocks = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "section", "article", "header", "footer", "blockquote", "pre", "dt", "dd"}  # fmt: skip

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out, self.skip, self.cells = [], 0, 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style", "noscript", "template"):
                self.skip += 1
            elif tag in blocks:
                self.out.append("\n")
                self.cells = 0
            elif tag in ("td", "th"):
                if self.cells:
                    self.out.append("\t")
                self.cells += 1

        def handle_endtag(self, tag):
            if tag in ("script", "style", "noscript", "template"):
                self.skip = max(0, self.skip - 1)
            elif tag in blocks:
                self.out.append("\n")

        def handle_data(self, data):
            if not self.skip:
                self.out.append(re.sub(r"[ \t\r\n]+", " ", data))

    reader = Reader()
    reader.feed(text)
    reader.close()
    lines = [line.strip(" ") for line in "".join(reader.out).replace("\xa0", " ").split("\n")]
    return "\n".join(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).split("\n")).strip()


# --- PDF -----------------------------------------------------------------------------------------

_STREAM = re.compile(rb"stream\r?\n")


def _check_inflation(data):
    """A PDF bomb: streams that inflate to gigabytes. Every Flate stream is inflated with a cap
    before the PDF library reads any of it."""
    import zlib

    total = 0
    for m in _STREAM.finditer(data):
        start = m.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data[start:end], MAX_PDF_STREAM + 1)
        except zlib.error:
            continue  # not Flate (or damaged): the library judges it
        total += len(out)
        if len(out) > MAX_PDF_STREAM or inflater.unconsumed_tail or total > MAX_PDF_INFLATED:
            raise ImportRejected(
                "這個 PDF 解壓縮後異常龐大（可能是惡意檔案），無法讀取；請確認檔案來源，"
                "或由 Word 重新另存為 PDF／.docx 後再上傳。"
            )


def pdf_text(data, *, progress=None):
    """The text of a text PDF, page by page in reading order (pdfminer.six's layout analysis),
    each page after the first starting with PAGE_BREAK (so warnings say 第 3 頁第 12 行); or
    ImportRejected for a scan, an encrypted PDF, a damaged one or a bomb."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser, PDFSyntaxError
    from pdfminer.pdftypes import resolve1

    if len(data) > MAX_PDF_BYTES:
        raise ImportRejected(
            f"PDF 檔案太大（{len(data) / 1024 / 1024:.1f} MB）；上限為 "
            f"{MAX_PDF_BYTES // 1024 // 1024} MB，請確認選擇的是會議紀錄。"
        )
    _check_inflation(data)
    encrypted = "這個 PDF 有密碼保護（已加密），無法讀取文字；請先在 PDF 閱讀器移除密碼（或另存一份未加密的 PDF）後再上傳。"
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        pages = resolve1(resolve1(document.catalog.get("Pages")) or {}).get("Count")
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise ImportRejected(encrypted) from None
    except Exception:  # noqa: BLE001 – pdfminer raises many kinds for a broken file
        raise ImportRejected(
            "無法讀取這個 PDF 檔案，檔案可能已損毀；請重新匯出 PDF 後再上傳。"
        ) from None
    try:
        pages = int(pages or 0)
    except (TypeError, ValueError):
        pages = 0
    if pages > MAX_PDF_PAGES:
        raise ImportRejected(
            f"這個 PDF 有 {pages} 頁，超過上限 {MAX_PDF_PAGES} 頁，不像一次會議的紀錄；"
            "請只上傳該次會議的頁面。"
        )
    lines, done = [], 0
    try:
        for page in extract_pages(io.BytesIO(data), laparams=LAParams(line_margin=0.3)):
            first = len(lines)
            for element in page:
                if isinstance(element, LTTextContainer):
                    lines.extend(element.get_text().rstrip("\n").split("\n"))
            if done:  # a page break before each page after the first: warnings name the page
                if len(lines) == first:
                    lines.append("")  # a page with no text still counts
                lines[first] = PAGE_BREAK + lines[first]
            done += 1
            if progress is not None:
                progress(done, pages or done)
            if done > MAX_PDF_PAGES:
                raise ImportRejected(f"這個 PDF 超過 {MAX_PDF_PAGES} 頁，不像一次會議的紀錄。")
    except ImportRejected:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise ImportRejected(encrypted) from None
    except (PDFSyntaxError, Exception):  # noqa: BLE001
        raise ImportRejected(
            "無法讀取這個 PDF 檔案，檔案可能已損毀；請重新匯出 PDF 後再上傳。"
        ) from None
    text = "\n".join(
        (PAGE_BREAK if line.startswith(PAGE_BREAK) else "") + line.lstrip(PAGE_BREAK).rstrip()
        for line in lines
    )
    if len(re.sub(r"\s+", "", text)) < 5 * max(1, done):  # a page number or two is no text
        raise ImportRejected(
            "這個 PDF 沒有文字層（看起來是掃描的影像），無法讀出文字；請上傳原始的 Word 檔，"
            "或先用 OCR（文字辨識）轉成文字後再貼上。"
        )
    return text
