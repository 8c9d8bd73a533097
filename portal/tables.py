"""Reading the bureau's lists (schools, people to invite) from CSV or xlsx, as rows numbered the
way Excel shows them, so every error can say 「第 N 列」.

CSV files saved by Excel in Taiwan are often Big5 (cp950) rather than UTF-8: both are read.
"""

import csv
import io
import zipfile
from dataclasses import dataclass

from openpyxl import load_workbook

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000  # the city has about 280 schools; a list of people a few thousand at most


class TableError(Exception):
    """A file that cannot be read as a table at all (the message is for the person uploading)."""


@dataclass(frozen=True)
class Row:
    number: int  # the row number Excel shows (the header is row 1 when it is the first line)
    cells: dict  # header → text, stripped ("" for an empty cell)

    def get(self, column):
        return self.cells.get(column, "")


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decode(data):
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("無法讀取這個 CSV 檔：請以 UTF-8 或 Big5 編碼儲存。")


def _raw_rows(name, data):
    if data[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise TableError("無法開啟這個 Excel 檔（.xlsx）：檔案可能已損壞。") from exc
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 1:
                raise TableError(f"資料超過 {MAX_ROWS} 列，請分批匯入。")
            yield number, [_text(v) for v in values]
        workbook.close()
        return
    for number, values in enumerate(csv.reader(io.StringIO(_decode(data))), start=1):
        if number > MAX_ROWS + 1:
            raise TableError(f"資料超過 {MAX_ROWS} 列，請分批匯入。")
        yield number, [_text(v) for v in values]


def read_table(name, data, *, columns, required):
    """The rows of the file's first sheet. The first non-empty line holds the
    headers; `columns` maps each header we read to the names people use for it
    ({"學校代碼": ("學校代碼", "代碼"), …}); a missing required column refuses the file. Empty
    lines are skipped."""
    if len(data) > MAX_BYTES:
        raise TableError(f"檔案超過 {MAX_BYTES // 1024 // 1024} MB。")
    if not data.strip():
        raise TableError("檔案是空的。")
    header_map, rows = None, []
    for number, values in _raw_rows(name, data):
        if not any(values):
            continue
        if header_map is None:
            header_map = {}
            for index, header in enumerate(values):
                for column, aliases in columns.items():
                    if header.replace(" ", "") in aliases:
                        header_map[index] = column
            missing = [c for c in required if c not in header_map.values()]
            if missing:
                raise TableError(
                    f"第 {number} 列應為標題列，缺少欄位：{'、'.join(missing)}"
                    f"（需要：{'、'.join(columns)}）。"
                )
            continue
        cells = {column: "" for column in columns}
        for index, column in header_map.items():
            cells[column] = values[index] if index < len(values) else ""
        rows.append(Row(number, cells))
    if header_map is None:
        raise TableError("檔案是空的。")
    return rows
