"""Small PDFs written by hand for the importer's tests: real text PDFs (CJK text in a Type0 font
with Identity-H encoding and a ToUnicode map, as Word and PDF printers write them; the font
itself is not embedded, which extraction does not need), an encrypted one, a scan (no text
layer) and bombs."""

import zlib


def _cmap(chars):
    entries = sorted({ord(c) for c in chars if ord(c) <= 0xFFFF})
    out = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    for i in range(0, len(entries), 100):
        chunk = entries[i : i + 100]
        out.append(f"{len(chunk)} beginbfchar")
        out.extend(f"<{c:04X}> <{c:04X}>" for c in chunk)
        out.append("endbfchar")
    out.append("endcmap CMapName currentdict /CMap defineresource pop end end")
    return "\n".join(out).encode()


def _content(lines, size=10):
    ops = [f"BT /F1 {size} Tf {size + 4} TL 40 800 Td"]
    for line in lines:
        hexed = "".join(f"{ord(c):04X}" for c in line if ord(c) <= 0xFFFF)
        ops.append(f"<{hexed}> Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode()


def text_pdf(pages, *, encrypted=False, extra_streams=(), declared_pages=None, compress=True):
    """A PDF whose pages hold these lines of text (pages: [[line, …], …]); a page given as None
    has no text at all (a scanned page)."""
    chars = "".join("".join(p) for p in pages if p)
    objects = {}  # number → bytes
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[3] = (
        b"<< /Type /Font /Subtype /Type0 /BaseFont /NotoSansCJKtc-Regular /Encoding /Identity-H"
        b" /DescendantFonts [4 0 R] /ToUnicode 5 0 R >>"
    )
    objects[4] = (
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NotoSansCJKtc-Regular"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>"
    )

    def stream(data, flate=compress):
        if flate:
            data = zlib.compress(data)
            return (
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)
                + data
                + (b"\nendstream")
            )
        return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    objects[5] = stream(_cmap(chars))
    kids, n = [], 6
    for lines in pages:
        content = _content(lines) if lines else b"q 100 0 0 100 0 0 cm Q"
        objects[n] = stream(content)
        objects[n + 1] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % n
        )
        kids.append(f"{n + 1} 0 R")
        n += 2
    for data in extra_streams:
        objects[n] = (
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + (b"\nendstream")
        )
        n += 1
    count = declared_pages if declared_pages is not None else len(kids)
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {count} >>".encode()
    trailer_extra = b""
    if encrypted:
        objects[n] = (
            b"<< /Filter /Standard /V 1 /R 2 /O <" + b"41" * 32 + b"> /U <" + b"42" * 32 + b">"
            b" /P -44 >>"
        )
        trailer_extra = b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (n, b"00" * 16, b"00" * 16)
        n += 1
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets.get(number, 0)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        trailer_extra,
        xref,
    )
    return bytes(out)
