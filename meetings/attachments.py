"""What an attached file really is, decided by its content – never by its name alone.

Pure: `identify(name, size, fileobj)` reads the first bytes (and, for the zip-based Office and
OpenDocument formats, the archive's table of contents) and returns the `Kind`, or raises
`AttachmentRejected` with a Chinese message. A file whose name says .pdf but whose content is
something else is refused: the name is what readers will trust when they open it.
"""

import zipfile
from dataclasses import dataclass

MAX_BYTES = 10 * 1024 * 1024


class AttachmentRejected(ValueError):
    """The file cannot be attached; the message is for the person who chose it."""


@dataclass(frozen=True)
class Kind:
    key: str
    content_type: str
    label: str
    extensions: tuple
    inline: bool  # shown in the browser (PDF, pictures) rather than downloaded

    @property
    def extension(self):
        return self.extensions[0]


KINDS = {
    kind.key: kind
    for kind in (
        Kind("pdf", "application/pdf", "PDF", (".pdf",), True),
        Kind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Word 文件",
            (".docx",),
            False,
        ),
        Kind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Excel 試算表",
            (".xlsx",),
            False,
        ),
        Kind("odt", "application/vnd.oasis.opendocument.text", "ODF 文件", (".odt",), False),
        Kind("png", "image/png", "PNG 圖片", (".png",), True),
        Kind("jpg", "image/jpeg", "JPEG 圖片", (".jpg", ".jpeg"), True),
    )
}
ALLOWED_TEXT = "PDF、Word（.docx）、Excel（.xlsx）、ODF 文件（.odt）、PNG 或 JPEG 圖片"
ACCEPT = ",".join(ext for kind in KINDS.values() for ext in kind.extensions)


def human_size(size):
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _zip_kind(fileobj):
    try:
        archive = zipfile.ZipFile(fileobj)
        names = set(archive.namelist())
        if "mimetype" in names:
            mimetype = archive.read("mimetype")[:100].strip()  # stored, a few bytes
            if mimetype == b"application/vnd.oasis.opendocument.text":
                return KINDS["odt"]
            return None
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        raise AttachmentRejected("檔案已損毀，無法開啟。") from None
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return KINDS["docx"]
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return KINDS["xlsx"]
    return None


def sniff(fileobj):
    """The Kind of the file's content, or None. Leaves the file at its start."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return KINDS["pdf"]
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return KINDS["png"]
        if head.startswith(b"\xff\xd8\xff"):
            return KINDS["jpg"]
        if head.startswith(b"PK\x03\x04"):
            return _zip_kind(fileobj)
        if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise AttachmentRejected(
                "這是舊版 Office 檔案（.doc 或 .xls），請另存為 .docx、.xlsx 或 PDF 後再上傳。"
            )
        return None
    finally:
        fileobj.seek(0)


def identify(name, size, fileobj):
    """Check an upload: not empty, at most MAX_BYTES, an allowed type by content, and a name
    that agrees with the content. Returns the Kind."""
    if not size:
        raise AttachmentRejected("檔案是空的。")
    if size > MAX_BYTES:
        raise AttachmentRejected(
            f"檔案太大（{human_size(size)}）；附件最多 {MAX_BYTES // 1024 // 1024} MB。"
        )
    kind = sniff(fileobj)
    if kind is None:
        raise AttachmentRejected(f"不接受這種檔案；附件可以是{ALLOWED_TEXT}。")
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in kind.extensions:
        raise AttachmentRejected(
            f"檔名是「{name}」，但內容是{kind.label}；請確認選擇的檔案，或把副檔名改為"
            f" {kind.extension}。"
        )
    return kind


def kind_of(content_type):
    return next((k for k in KINDS.values() if k.content_type == content_type), None)
