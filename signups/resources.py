"""The survey table as a spreadsheet, in the bureau's layout (the seed's columns, in order).

Export: django-import-export's `OfferResource` turns the consolidated rows into a tablib dataset
(項次 numbered, dates like 2/3~4 and 12/25~1/3); `export_xlsx` writes it under the survey's title
with every cell that Excel could read as a formula written as text (`portal.spreadsheets`).

Import: a school uploads the same layout. The file is checked by content before it is opened
(zip magic, [Content_Types].xml, ≤ 5 MB, ≤ 50 MB unzipped), the headers must be exact, every row
is judged by `rules.clean_row`, and only when no row has an error are they saved, in one
transaction (`services.import_run_process`, in the worker). Errors read 「第 N 列，欄位 X：…」
with N the row number Excel shows.
"""

import io
import itertools
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from import_export import fields, resources
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from portal import rocdate
from portal.spreadsheets import put as _put

from . import columns, filers, rules
from .models import Offer

HEADERS = ["項次", "類型", "承辦學校", "課程名稱", "活動日期", "活動地點", "費用", "報名日期",
           "參加年級", "人數"]  # fmt: skip
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_ROWS = columns.MAX_ROWS
# How far down a sheet is read at all: room for the title, the headers, 200 rows, blank lines and
# notes. A file's <dimension> tag and its empty-but-present rows are not trusted: anything below
# this row refuses the file instead of being walked (a sheet may claim 1 048 576 rows).
SCAN_ROWS = 1000
PROGRESS_EVERY = 10  # rows between two progress updates (one UPDATE each) …
PROGRESS_UPDATES = 50  # … and at most this many while the rows are judged
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class OfferResource(resources.ModelResource):
    number = fields.Field(column_name="項次")
    category = fields.Field(attribute="category", column_name="類型")
    school = fields.Field(attribute="response__school__name", column_name="承辦學校")
    course_name = fields.Field(attribute="course_name", column_name="課程名稱")
    activity = fields.Field(column_name="活動日期")
    venue = fields.Field(attribute="venue", column_name="活動地點")
    fee = fields.Field(column_name="費用")
    registration = fields.Field(column_name="報名日期")
    grades = fields.Field(column_name="參加年級")
    capacity = fields.Field(column_name="人數")

    class Meta:
        model = Offer
        fields = ("number", "category", "school", "course_name", "activity", "venue", "fee",
                  "registration", "grades", "capacity")  # fmt: skip
        export_order = fields

    def before_export(self, queryset, **kwargs):
        self._numbers = itertools.count(1)

    def dehydrate_number(self, offer):
        return next(self._numbers)

    def dehydrate_activity(self, offer):
        return rocdate.format_month_day_range(offer.activity_starts_on, offer.activity_ends_on)

    def dehydrate_registration(self, offer):
        return rocdate.format_month_day_range(
            offer.registration_starts_on, offer.registration_ends_on
        )

    def dehydrate_fee(self, offer):
        return "免費" if not offer.fee else offer.fee

    def dehydrate_capacity(self, offer):
        return offer.capacity  # a number in the sheet, not the widget's string

    def dehydrate_grades(self, offer):
        return rules.format_grades(offer.grade_from, offer.grade_to, offer.gender)


def consolidated_offers(survey):
    from .models import Status

    return (
        Offer.objects.filter(response__survey=survey, response__status=Status.SUBMITTED)
        .select_related("response__school__district")
        .order_by("response__school__district__position", "response__school__code", "position")
    )


def _workbook(title, rows, notes=(), headers=HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.title = "調查表"
    _put(ws, 1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for column, header in enumerate(headers, start=1):
        cell = _put(ws, 2, column, header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    r = 2
    for r, row in enumerate(rows, start=3):
        for column, value in enumerate(row, start=1):
            _put(ws, r, column, value)
    for offset, note in enumerate(notes, start=2):
        _put(ws, r + offset, 1, note)
    if headers is HEADERS:
        widths = (6, 10, 12, 28, 12, 14, 8, 12, 16, 6)
    else:
        widths = [6] + [max(10, min(30, 2 * len(h) + 4)) for h in headers[1:]]
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def survey_notes(survey):
    if not survey.is_winter_camp:
        return [line for line in survey.instructions.splitlines() if line.strip()]
    notes = ["*表格不足請自行增列"]
    survey_rules = survey.rules()  # the stored rules: the window and blackouts on 活動日期
    window = survey_rules.window
    if window is not None:
        notes.append(
            f"{window.label}時間為{rocdate.format_date(window.start, era=False, weekday=False)}"
            f"至{rocdate.format_date(window.end, era=False, weekday=False)}"
        )
    for b in survey_rules.blackouts:
        notes.append(f"（{rocdate.format_short(b.start)}至{rocdate.format_short(b.end)}{b.label}）")
    return notes


def table_headers(table):
    return ["項次"] + [c.label for c in table]


def export_xlsx(survey, offers=None):
    """The consolidated rows of the schools that sent, in the survey's layout: title, header,
    rows, notes. Text that Excel could read as a formula is written as text."""
    table = survey.table()[0]
    offers = list(offers if offers is not None else consolidated_offers(survey))
    if not columns.is_winter_camp(table):
        rows = [[n] + [_cell_value(c, o.values.get(c.key), survey.school_year) for c in table]
                for n, o in enumerate(offers, start=1)]  # fmt: skip
        headers = table_headers(table)
    else:
        rows, headers = [list(row) for row in OfferResource().export(offers)], HEADERS
    if survey.by_district:
        # one table per district: the district named after 項次, the convener school in its column
        headers = [headers[0], "分區", *headers[1:]]
        rows = [
            [row[0], o.response.school.district.name, *row[1:]]
            for row, o in zip(rows, offers, strict=True)
        ]
    return _workbook(survey.title, rows, survey_notes(survey), headers)


def _cell_value(column, value, school_year):
    """A stored value as its sheet cell: numbers stay numbers, the rest as people type them."""
    if column.type == "integer" and value is not None:
        return value
    if column.type == "money" and value:
        return value
    return columns.show(column, value, school_year=school_year)


def template_xlsx(survey, school):
    """The empty table a school may fill offline, with the seed's example row (skipped on import);
    for other surveys one blank row with the school filled in."""
    table = survey.table()[0]
    if not columns.is_winter_camp(table):
        row = ["1"] + [school.name if c.type == "school" else "" for c in table]
        notes = survey_notes(survey)
        schools = filers.district_schools(survey, school)
        if schools is not None and any(c.type == "school" for c in table):
            # under the table, one cell: the import skips it as a note
            names = "、".join(f"{name}（{code}）" for code, name in schools.schools)
            notes.append(f"學校欄可填{schools.district}的任一學校（校名或學校代碼）：{names}；"
                         f"留空即召集學校{school.name}。")  # fmt: skip
        return _workbook(survey.title, [row], notes, table_headers(table))
    example = ["1 (例)", (survey.category_list or ["技能研習"])[0], school.name,
               "FUN Coding (KODU+RPG)", "2/3~4", school.name, "免費", "12/25~1/3", "4~6年級 女生",
               20]  # fmt: skip
    return _workbook(survey.title, [example], survey_notes(survey))


# --- import ----------------------------------------------------------------------------------


class ImportRefused(Exception):
    """The file or some rows are refused; `messages` lists every problem, in Chinese."""

    def __init__(self, messages):
        super().__init__("\n".join(messages))
        self.messages = list(messages)


def check_xlsx(upload):
    """Refuse anything that is not a small, real .xlsx before any parser sees it."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > MAX_UPLOAD_BYTES:
        raise ImportRefused([f"檔案太大（{size / 1024 / 1024:.1f} MB），上限為 5 MB。"])
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    not_xlsx = (
        "檔案不是 Excel 活頁簿（.xlsx）。請用 Excel 另存為「Excel 活頁簿 (*.xlsx)」後再上傳。"
    )
    if head != b"PK\x03\x04":
        raise ImportRefused([not_xlsx])
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError):
        raise ImportRefused([not_xlsx]) from None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportRefused([not_xlsx])
    # zipfile never inflates an entry beyond its declared size, so the declared sizes bound
    # what openpyxl can unpack.
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise ImportRefused(["檔案解壓縮後超過 50 MB，疑似異常檔案，已拒絕。"])


def _cell_text(value, school_year):
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        # Excel turned a typed 2/3 into a date of some year; keep the month/day in the survey's
        # school year, which is what the school meant.
        d = rocdate.school_year_month_day(value.month, value.day, school_year)
        return rocdate.format_short(d)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class Formula(str):
    """A formula cell's text (「=A1+1」) where its value would be: the workbook is opened without
    cached values, and `formula_cells` refuses any in the table's rows."""

    def __new__(cls, text, coordinate):
        self = super().__new__(cls, text)
        self.coordinate = coordinate
        return self


MAX_FORMULAS_LISTED = 20


def _values(ws, width):
    """The sheet's first `width` columns down to row SCAN_ROWS + 1 (bounded whatever the file
    claims), a formula cell as its `Formula` rather than a cached value, which Excel may never
    have written and which would read as blank."""
    ws.reset_dimensions()  # openpyxl would pad the rows out to what <dimension> claims
    rows = []
    for row in ws.iter_rows(max_col=width, max_row=SCAN_ROWS + 1):
        values = []
        for cell in row:
            if cell.data_type == "f":
                text = getattr(cell.value, "text", cell.value)  # an array formula is an object
                text = str(text or "")
                values.append(Formula(text if text.startswith("=") else f"={text}",
                                      cell.coordinate))  # fmt: skip
            else:
                values.append(cell.value)
        rows.append(tuple(values))
    return rows


def formula_cells(rows):
    """Refuse the table's rows if any cell is a formula, naming every such cell (up to a limit).
    項次 (the first cell) is never read, so its numbering formula (=ROW()-2) is let through."""
    found = [v for row in rows for v in row[1:] if isinstance(v, Formula)]
    if not found:
        return
    messages = [f"{f.coordinate} 是公式（{f[:60]}），請改填數值或文字後再上傳。"
                for f in found[:MAX_FORMULAS_LISTED]]  # fmt: skip
    if len(found) > MAX_FORMULAS_LISTED:
        messages.append(f"另有 {len(found) - MAX_FORMULAS_LISTED} 個公式儲存格未列出，"
                        "請一併改為數值或文字。")  # fmt: skip
    raise ImportRefused(messages)


def _rows_with_data(ws):
    """The sheet's rows (values of the table's columns) down to the last one with a value.
    Reads at most SCAN_ROWS rows; a sheet with any row below that is refused."""
    rows = _values(ws, len(HEADERS))
    if len(rows) > SCAN_ROWS:
        raise ImportRefused([
            f"工作表在第 {SCAN_ROWS:,} 列之後還有內容（或有格式的空白列）。每校最多 {MAX_ROWS} 列"
            f"資料，請刪除第 {SCAN_ROWS:,} 列以下的所有列後再上傳。"
        ])  # fmt: skip
    while rows and all(v in (None, "") for v in rows[-1]):
        rows.pop()
    return rows


def _is_entry(row):
    """A row of the table: something in a column after 項次, and not the template's example."""
    has_values = any(v is not None and str(v).strip() for v in row[1 : len(HEADERS)])
    return has_values and "例" not in str(row[0] or "")


@dataclass
class ParsedSheet:
    rows: list  # [(excel row number, OfferValues)]


def read_rows(upload, *, survey_rules, school, progress=None, survey=None):
    """Every row of the uploaded table, judged; raises ImportRefused listing every problem.
    `progress(done, total, message)` is told how far the check has come (for the progress bar).
    A `survey` whose columns are not the winter-camp table's is read by its own columns."""
    if survey is not None and not survey.is_winter_camp:
        return _read_table_rows(upload, survey=survey, school=school, progress=progress)
    check_xlsx(upload)
    unreadable = ImportRefused(["檔案無法讀取，請確認是 Excel 活頁簿（.xlsx）且沒有損毀。"])
    try:
        wb = load_workbook(upload, read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 – any parser failure means "not a readable workbook"
        raise unreadable from None
    try:
        # read-only mode parses the sheet while iterating: a broken sheet fails here, not above
        all_rows = _rows_with_data(wb.worksheets[0])
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001
        raise unreadable from None
    finally:
        wb.close()
    header_at = next(
        (i for i, row in enumerate(all_rows[:3]) if row and str(row[0] or "").strip() == "項次"),
        None,
    )
    expected = "、".join(HEADERS)
    if header_at is None:
        raise ImportRefused([f"找不到標題列：前 3 列中須有一列依序為「{expected}」。"])
    found = [str(v or "").strip() for v in all_rows[header_at]]
    found += [""] * (len(HEADERS) - len(found))
    if found != HEADERS:
        wrong = [f"第 {i} 欄應為「{h}」而不是「{f}」" for i, (h, f) in enumerate(zip(HEADERS, found, strict=True), 1) if h != f]  # fmt: skip
        raise ImportRefused([f"第 {header_at + 1} 列的欄位名稱不正確：" + "；".join(wrong) + "。"])

    messages, parsed = [], []
    column_of = {name: label for name, label in rules.LABELS.items()}
    body = all_rows[header_at + 1 :]
    filled = sum(1 for row in body if _is_entry(row))
    if filled > MAX_ROWS:  # refused before any row is judged
        raise ImportRefused([f"表中有 {filled} 列資料，超過每校上限 {MAX_ROWS} 列；"
                             f"請分開填報或刪除多餘的列後再上傳。"])  # fmt: skip
    formula_cells(row for row in body if _is_entry(row))
    every = max(PROGRESS_EVERY, -(-len(body) // PROGRESS_UPDATES))
    for index, row in enumerate(body, start=header_at + 2):
        if progress and (index - header_at - 2) % every == 0:
            progress(index - header_at - 2, len(body), f"檢查第 {index} 列")
        cells = [_cell_text(v, survey_rules.school_year) for v in row] + [""] * len(HEADERS)
        number, category, host, name, activity, venue, fee, registration, grades, capacity = cells[
            :10
        ]
        if not _is_entry(row):
            continue  # a blank line, a note under the table, the template's example row
        problems = []
        if host and host != school.name:
            problems.append(
                ("承辦學校", f"承辦學校須為本校（{school.name}），不可代其他學校填報。")
            )
        raw = {"category": category, "course_name": name, "activity": activity, "venue": venue,
               "fee": fee, "registration": registration, "capacity": capacity, "gender": "open",
               "grade_from": "", "grade_to": ""}  # fmt: skip
        try:
            raw["grade_from"], raw["grade_to"], raw["gender"] = (
                str(x) for x in rules.parse_grade_cell(grades)
            )
        except rules.RuleError as exc:
            problems.append(("參加年級", str(exc)))
        result = rules.clean_row(raw, survey_rules)
        for field, field_messages in result.errors.items():
            if field in ("grade_from", "grade_to", "gender") and any(
                c == "參加年級" for c, _ in problems
            ):
                continue  # the cell itself was unreadable; one message is enough
            problems.extend((column_of[field], m) for m in field_messages)
        if problems:
            messages.extend(f"第 {index} 列，欄位 {column}：{m}" for column, m in problems)
        else:
            parsed.append((index, result.values))
    if not parsed and not messages:
        messages.append("表中沒有任何資料列。")
    if messages:
        raise ImportRefused(messages)
    return ParsedSheet(rows=parsed)


def _sheet_rows(upload, width):
    check_xlsx(upload)
    unreadable = ImportRefused(["檔案無法讀取，請確認是 Excel 活頁簿（.xlsx）且沒有損毀。"])
    try:
        wb = load_workbook(upload, read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 – any parser failure means "not a readable workbook"
        raise unreadable from None
    try:
        rows = _values(wb.worksheets[0], width)
    except Exception:  # noqa: BLE001
        raise unreadable from None
    finally:
        wb.close()
    if len(rows) > SCAN_ROWS:
        raise ImportRefused([f"工作表在第 {SCAN_ROWS:,} 列之後還有內容（或有格式的空白列）。"
                             f"請刪除第 {SCAN_ROWS:,} 列以下的所有列後再上傳。"])  # fmt: skip
    return rows


def _read_table_rows(upload, *, survey, school, progress=None):
    """Any survey's sheet: the header row (項次 and the columns' labels, in order) within the
    first 5 rows, then every row under it judged by `columns.check_table`; a note under the
    table (text in the first cell only) and the (例) row are skipped."""
    table, found = survey.table()
    headers = table_headers(table)
    rows = _sheet_rows(upload, len(headers))
    header_at = next((i for i, row in enumerate(rows[:5]) if row and [str(v or "").strip()
                      for v in row][: len(headers)] == headers), None)  # fmt: skip
    if header_at is None:
        raise ImportRefused([f"找不到標題列：前 5 列中須有一列依序為「{'、'.join(headers)}」。"])
    entries = []
    for index, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = [_cell_text(v, survey.school_year) for v in row] + [""] * len(headers)
        rest = cells[1 : len(headers)]
        if not any(rest) or "例" in cells[0]:
            continue
        school_column = [i for i, c in enumerate(table) if c.type == "school"]
        if all(not v for i, v in enumerate(rest) if i not in school_column):
            continue  # only the school filled in: the blank template's row
        entries.append((index, dict(zip((c.key for c in table), rest, strict=True))))
    formula_cells(rows[n - 1] for n, _ in entries)
    if len(entries) > MAX_ROWS:
        raise ImportRefused([f"表中有 {len(entries)} 列資料，超過每校上限 {MAX_ROWS} 列；"
                             f"請分開填報或刪除多餘的列後再上傳。"])  # fmt: skip
    if progress:
        progress(0, len(entries), "檢查中")
    result = columns.check_table(table, found, [raw for _, raw in entries],
                                 school_year=survey.school_year, school_name=school.name,
                                 schools=filers.district_schools(survey, school))  # fmt: skip
    if not entries:
        raise ImportRefused(["表中沒有任何資料列。"])
    if not result.ok:
        # the problem's row is the table's; name the row Excel shows
        messages = []
        for p in result.problems:
            where = f"第 {entries[p.row - 1][0]} 列，" if p.row else ""
            what = f"欄位 {p.column}：" if p.column else ""
            messages.append(f"{where}{what}{p.message}")
        raise ImportRefused(messages)
    return ParsedSheet(rows=[(n, v) for (n, _), v in zip(entries, result.rows, strict=True)])
