"""Read the bureau's own .xlsx template (the table attached to the e-mail) into a proposed
survey: the title line, the header row, the example row marked (例), the notes under the table;
a type proposed for each column from its header and example, and rules from the notes' date
ranges (寒假時間為109年1月21日至2月10日 → within; (109年1月23日至1月29日除夕及春假) → outside).

A template this cannot read faithfully is refused with every problem naming its cell: no header
row, merged header cells, two tables on one sheet, a formula, too many columns. Nothing is
created here: the proposal is plain data for the staff form or `survey_from_template`.
"""

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from portal import rocdate

from . import columns as cols

MAX_COLUMNS = 60
MAX_TEMPLATE_ROWS = 500
MAX_BYTES = 5 * 1024 * 1024
ROW_NUMBER_HEADERS = {"項次", "編號", "序號", "序", "No", "NO", "no"}
EXAMPLE_MARK = re.compile(r"[（(]\s*例\s*[)）]")
# a period in a note: 109年1月21日至2月10日, 109/1/23~1/29
_PERIOD = re.compile(
    r"(\d{2,3}\s*(?:年|/)\s*\d{1,2}\s*(?:月|/)\s*\d{1,2}\s*日?\s*(?:至|~|～|到|-)\s*"
    r"(?:\d{2,3}\s*(?:年|/)\s*)?\d{1,2}\s*(?:月|/)\s*\d{1,2}\s*日?)"
)


class TemplateRefused(Exception):
    def __init__(self, messages):
        super().__init__("；".join(messages))
        self.messages = list(messages)


@dataclass
class Proposal:
    title: str
    columns: list  # [columns.Column]
    rules: list  # [columns.Rule]
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # [{"row": n, "message": …}]
    header_row: int = 0
    example_row: int | None = None
    example: dict = field(default_factory=dict)  # column key -> example text
    has_row_number: bool = False
    school_year: int | None = None

    def as_data(self):
        return {
            "title": self.title,
            "columns": [
                {
                    "label": c.label,
                    "type": c.type,
                    "required": c.required,
                    **({"options": c.options} if c.options else {}),
                    **({"help": c.help} if c.help else {}),
                }
                for c in self.columns
            ],  # fmt: skip
            "rules": [cols.rule_as_data(r, self.columns) for r in self.rules],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def _text(value):
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return rocdate.format_short(value if isinstance(value, date) else value.date())
    return unicodedata.normalize("NFKC", str(value)).strip()


def _cell(row, column):
    return f"{get_column_letter(column)}{row}"


def read_template(data):
    """`data` (bytes of an .xlsx) → Proposal, or TemplateRefused naming every cell at fault."""
    if len(data) > MAX_BYTES:
        raise TemplateRefused([f"檔案超過 {MAX_BYTES // 1024 // 1024} MB。"])
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TemplateRefused(["這不是 Excel 檔（.xlsx）：請在 Excel 另存為「Excel 活頁簿」。"])
    try:
        wb = load_workbook(io.BytesIO(data), data_only=False)
    except Exception:  # openpyxl raises many kinds on a broken file
        raise TemplateRefused(["檔案無法以 Excel 活頁簿開啟，請重新存檔後再上傳。"]) from None
    ws = wb.worksheets[0]
    if ws.max_column > MAX_COLUMNS:
        last = _cell(1, ws.max_column)
        raise TemplateRefused(
            [f"工作表有 {ws.max_column:,} 欄（到 {last}），調查表最多 {MAX_COLUMNS} 欄。"]
        )
    if ws.max_row > MAX_TEMPLATE_ROWS:
        raise TemplateRefused([f"工作表有 {ws.max_row:,} 列，範本最多 {MAX_TEMPLATE_ROWS} 列。"])
    problems = []
    grid = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("=")):
                problems.append(f"儲存格 {c.coordinate} 是公式（{str(c.value)[:30]}），請改成值。")
                continue
            text = _text(c.value)
            if text:
                grid[(c.row, c.column)] = text
    if problems:
        raise TemplateRefused(problems)
    rows = sorted({r for r, _ in grid})
    filled = {r: sorted(c for rr, c in grid if rr == r) for r in rows}
    header = next((r for r in rows if _looks_like_header(grid, r, filled[r])), None)
    if header is None:
        raise TemplateRefused(
            ["找不到欄位名稱列：表格上方須有一列寫著三個以上的欄位名稱（例如 項次、學校、人數）。"]
        )
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= header <= merged.max_row and merged.max_col > merged.min_col:
            problems.append(f"欄位名稱列的 {merged.coord} 是合併儲存格：請每欄一個名稱，不要合併。")
    if problems:
        raise TemplateRefused(problems)
    header_columns = filled[header]
    title = next((grid[(r, filled[r][0])] for r in rows if r < header and len(filled[r]) == 1), "")
    # the table: the rows after the header until the first blank row
    body, r = [], header + 1
    while r in filled:
        body.append(r)
        r += 1
    after = [x for x in rows if x > (body[-1] if body else header)]
    notes = []
    for x in after:
        if len(filled[x]) >= 3:
            raise TemplateRefused(
                [
                    f"同一工作表有第二個表格（從 {_cell(x, filled[x][0])} 開始）：每個工作表只放一個表格。"
                ]
            )
        notes.append("".join(grid[(x, c)] for c in filled[x]))
    return _propose(grid, title, header, header_columns, body, notes)


def _looks_like_header(grid, row, columns_):
    if len(columns_) < 3:
        return False
    texts = [grid[(row, c)] for c in columns_]
    return all(len(t) <= 30 and not re.fullmatch(r"[\d.,\s]+", t) for t in texts)


def _propose(grid, title, header, header_columns, body, notes):
    warnings, columns_, example, keys = [], [], {}, {}
    example_row = next(
        (r for r in body if any(EXAMPLE_MARK.search(grid.get((r, c), "")) for c in header_columns)),
        None,
    )
    has_number = False
    for position, c in enumerate(header_columns, start=1):
        label = grid[(header, c)]
        if position == 1 and label.replace(" ", "") in ROW_NUMBER_HEADERS:
            has_number = True
            continue
        required = not re.search(r"[（(]選填[)）]", label)
        clean = re.sub(r"[（(]選填[)）]|[*＊]", "", label).strip()
        sample = EXAMPLE_MARK.sub("", grid.get((example_row, c), "")).strip() if example_row else ""
        key = f"c{len(columns_) + 1}"
        kind, options, warning = propose_type(clean, sample)
        if warning:
            warnings.append({"row": header, "message": f"欄位「{clean}」：{warning}"})
        columns_.append(cols.Column(key, clean, kind, required=required and kind != "school",
                                    options=options))  # fmt: skip
        keys[c] = key
        if sample:
            example[key] = sample
    for r in body:
        if r != example_row:
            warnings.append(
                {"row": r, "message": f"第 {r} 列已有資料（不是範例），建立調查時不會帶入。"}
            )
    if example_row is None:
        warnings.append(
            {"row": header + 1, "message": "沒有標示（例）的範例列，欄位類型只依欄名推測，請檢查。"}
        )
    school_year = _school_year_of(title, notes)
    rules = _rules_from_notes(columns_, notes, school_year, warnings)
    return Proposal(title=title, columns=columns_, rules=rules, notes=notes, warnings=warnings,
                    header_row=header, example_row=example_row, example=example,
                    has_row_number=has_number, school_year=school_year)  # fmt: skip


def propose_type(label, sample):
    """(type, options, warning) for a column from its header and its example's text."""
    flat = label.replace(" ", "")
    lowered = flat.lower()
    if "年級" in flat:
        return "grade_range", {}, ""
    if any(w in flat for w in ("日期", "期間")) or flat.endswith("日"):
        if re.search(r"[~～至到]", sample) or (not sample and "期間" in flat):
            return "date_range", {}, ""
        return "date", {}, ""
    if any(w in flat for w in ("費用", "金額", "經費", "價格", "單價", "總價")):
        return "money", {}, ""
    if any(
        w in flat for w in ("人數", "數量", "名額", "台數", "節數", "人次", "件數", "間數", "坪數")
    ):
        return "integer", {"min": 1 if ("人數" in flat or "名額" in flat) else 0}, ""
    if any(w in lowered for w in ("email", "e-mail", "信箱", "電子郵件")):
        return "email", {}, ""
    if any(w in flat for w in ("電話", "分機", "手機", "傳真")):
        return "phone", {}, ""
    if flat in {"學校", "校名", "承辦學校", "學校名稱", "填報學校", "服務學校"}:
        return "school", {}, ""
    if (
        any(w in flat for w in ("類型", "類別", "種類", "性質", "是否", "規格"))
        and sample
        and len(sample) <= 8
    ):
        return "choice", {"choices": [sample]}, f"選項只有範例「{sample}」，請補上其他選項。"
    return "text", {}, ""


def _school_year_of(title, notes):
    for text in [title, *notes]:
        m = re.search(r"(\d{2,3})\s*學年度", text)
        if m:
            return int(m[1])
    for text in [title, *notes]:
        m = _PERIOD.search(text)
        if m:
            try:
                start, _ = rocdate.parse_date_range(m[1])
            except rocdate.ROCDateError:
                continue
            return rocdate.school_year_of(start)
    return None


def _date_columns(columns_):
    return [c for c in columns_ if c.type in ("date", "date_range")]


def _rules_from_notes(columns_, notes, school_year, warnings):
    dated = _date_columns(columns_)
    registration = next((c for c in dated if "報名" in c.label), None)
    target = next((c for c in dated if "活動" in c.label), None) or next(
        (c for c in dated if c is not registration), None
    )
    rules = []
    if registration is not None and target is not None:
        rules.append(cols.Rule("before", registration.key, other=target.key))
    for note in notes:
        m = _PERIOD.search(note)
        if not m:
            continue
        try:
            start, end = rocdate.parse_date_range(m[1], school_year=school_year)
        except rocdate.ROCDateError as exc:
            warnings.append({"row": None, "message": f"備註「{note}」的日期無法辨識：{exc}"})
            continue
        if target is None:
            warnings.append(
                {"row": None, "message": f"備註「{note}」有期間，但表格沒有日期欄位可套用。"}
            )
            continue
        before, after = note[: m.start()], note[m.end() :]
        inside = re.sub(r"^[（(]|[)）]$", "", note.strip())
        if note.strip()[:1] in "(（" or inside.startswith(m[1]):
            label = re.sub(r"[)）。\s]", "", after) or "不可辦理期間"
            rules.append(cols.Rule("outside", target.key, start=start, end=end, label=label))
        else:
            label = re.sub(r"(時間|期間)?(為|是|：|:)?\s*$", "", before).strip() or "規定"
            rules.append(cols.Rule("within", target.key, start=start, end=end, label=label))
    return rules
