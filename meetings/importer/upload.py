"""An uploaded file (.txt or .docx) into text, or ImportRejected saying what it is instead."""

import io
import zipfile

from .result import ImportRejected

MAX_BYTES = 2 * 1024 * 1024  # minutes are tens of kilobytes; 2 MB is already a mistake
MAX_DOCX_UNZIPPED = 50 * 1024 * 1024


def text_from_upload(data: bytes, filename: str = ""):
    """The text of an uploaded file (.txt or .docx), or ImportRejected saying what it is."""
    if not data or not data.strip():
        raise ImportRejected("檔案是空的，請貼上或上傳會議紀錄的內容。")
    if len(data) > MAX_BYTES:
        raise ImportRejected(
            f"檔案太大（{len(data) / 1024 / 1024:.1f} MB）；會議紀錄文字檔不會超過 "
            f"{MAX_BYTES // 1024 // 1024} MB，請確認選擇的是會議紀錄。"
        )
    if data[:4] == b"PK\x03\x04":
        return _text_from_zip(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportRejected(
            "這是舊版 Office 檔案（.doc 或 .xls），請在 Word 另存為 .docx 後再上傳。"
        )
    if data[:5] == b"%PDF-":
        raise ImportRejected("這是 PDF 檔案；請在 PDF 閱讀器全選複製文字，再貼到文字框。")
    if b"\x00" in data[:4096]:
        raise ImportRejected("這不是文字檔（看起來是二進位檔案），請上傳 .txt 或 .docx。")
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
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


def docx_text(data):
    """Paragraphs and tables of a .docx in document order; table rows become tab-separated
    lines, the same shape as text copied out of Word."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 – python-docx raises many kinds for a broken file
        raise ImportRejected("無法讀取這個 .docx 檔案，請確認檔案沒有損毀。") from None
    lines = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = []
                for cell in row.cells:
                    text = " ".join(cell.text.split("\n"))
                    if not cells or cells[-1] is not cell:  # merged cells repeat
                        cells.append(text)
                lines.append("\t".join(cells))
            lines.append("")
    return "\n".join(lines)
