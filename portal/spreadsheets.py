"""Every spreadsheet the portal hands out writes people's text as text, never as a formula.

A cell that starts with = + - @, a tab or a carriage return is read by Excel and LibreOffice as a
formula (OWASP, "CSV injection"): a 辦理情形 typed as `=HYPERLINK("http://…","點此")` would be a
live link in the bureau's report. So:

- `.xlsx` written with openpyxl: `put(ws, row, column, value)` stores such text as a string cell
  with Excel's quote prefix – shown exactly as typed, never evaluated;
- any other format (CSV, TSV, ODS, the admin's exports): `escape(value)` puts a `'` in front, as
  OWASP recommends; the mark is visible, the formula is not run.

`EXPORT_FORMATS` are django-import-export's formats with this applied; the admins that export use
them, and `xlsx_of(dataset)` writes a dataset (a resource's export) through `put`.
"""

import io

from import_export.formats import base_formats
from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value):
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def escape(value):
    """For text formats: a leading `'` keeps a spreadsheet from reading the cell as a formula."""
    return f"'{value}" if is_formula_like(value) else value


def put(ws, row, column, value):
    """Write one cell of an openpyxl sheet; text that looks like a formula stays text."""
    cell = ws.cell(row=row, column=column)
    cell.value = value  # openpyxl makes "=…" a formula here; the next lines undo that
    if is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def xlsx_of(dataset, *, title=None):
    """A tablib dataset (headers and rows) as .xlsx bytes, every cell written by `put`."""
    wb = Workbook()
    ws = wb.active
    if title:
        ws.title = title[:31]
    for column, header in enumerate(dataset.headers or [], start=1):
        put(ws, 1, column, header)
    for r, values in enumerate(dataset, start=2):
        for column, value in enumerate(values, start=1):
            put(ws, r, column, value)
    if dataset.headers:
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs):
        return xlsx_of(dataset)


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        return super().export_data(_escaped(dataset), **kwargs)


def _escaped(dataset):
    copy = dataset.__class__(headers=[escape(h) for h in dataset.headers or []] or None)
    for values in dataset:
        copy.append([escape(v) for v in values])
    return copy


EXPORT_FORMATS = [SafeXLSX, SafeCSV]
