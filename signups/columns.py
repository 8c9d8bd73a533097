"""Any survey's table as data, as pure functions: columns (label, type, required, help, options)
and rules, text in, typed values or Chinese messages out.

A value is stored as JSON the database can keep per row and read back without the survey's code:
text/choice/email/phone → str, school → str (the filing school's name) or, in a district-filed
survey, {"code", "name"} (see `DistrictSchools`), integer/money → int (money 0 is 免費), date → "YYYY-MM-DD",
date_range → {"start", "end"}, grade_range → {"from", "to", "gender"}. `show` writes a value back
in the form people type it (2/3~4 inside the school year, 4~6年級 女生, 免費). Rules judge the
typed rows and name the row, the column and the rule, as `rules.py` does for the winter-camp
table. No database here.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from portal import rocdate

from .rules import (
    GENDERS,
    RuleError,
    _whole_number,
    format_range_in_year,
    parse_dates,
    parse_fee,
    parse_grade_cell,
)

TYPES = {
    "text": "文字",
    "integer": "整數",
    "money": "金額（或免費）",
    "date": "日期",
    "date_range": "日期區間",
    "grade_range": "年級",
    "choice": "選項",
    "school": "學校",
    "email": "電子郵件",
    "phone": "電話",
}
RULE_KINDS = {
    "within": "須在期間內",
    "outside": "不可在期間內",
    "before": "須早於另一欄",
    "max_rows": "列數上限",
    "total": "各列合計上限",
}
MAX_TEXT = 500
MAX_ROWS = 200  # the most rows a school's table holds (filing form and xlsx import)
MAX_INTEGER = 10**9
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# 02-2960-3456, (02)2960-3456, 0912-345-678, 02-2960-3456#123, 2960-3456 分機 123
_PHONE = re.compile(
    r"^(\(?0\d{1,3}\)?[-\s]?)?\d{3,4}[-\s]?\d{3,4}(?:(?:#|分機|轉|ext\.?)\d{1,6})?$"
)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str = "text"
    required: bool = True
    help: str = ""
    options: dict = field(default_factory=dict)  # integer: min, max; choice: choices

    @property
    def choices(self):
        return list(self.options.get("choices", ()))


@dataclass(frozen=True)
class Rule:
    """One rule any survey may use. `within` / `outside`: `column`'s dates in / not in
    start–end (`label` names the period: 寒假, 除夕及春假); `before`: `column` ends before
    `other` starts; `max_rows`: at most `limit` rows; `total`: `column` summed over the rows is
    at most `limit`."""

    kind: str
    column: str = ""
    other: str = ""
    start: date | None = None
    end: date | None = None
    label: str = ""
    limit: int | None = None

    @property
    def period_text(self):
        return _period(self.start, self.end)


@dataclass(frozen=True)
class Problem:
    row: int | None  # 1-based row of the table; None for the whole table
    column: str  # the column's label, "" for the table
    rule: str  # the rule's kind or "type"
    message: str
    key: str = ""  # the column's key ("" for the table)

    def __str__(self):
        where = f"第 {self.row} 列，" if self.row else ""
        what = f"欄位 {self.column}：" if self.column else ""
        return f"{where}{what}{self.message}"


@dataclass(frozen=True)
class DistrictSchools:
    """The schools a district-filed survey's `school` column may name: any school of the
    district, by its name as shown or its 學校代碼; blank means the convener school, which files
    the district's table. `schools` and `convener` are (code, name) pairs.

    The value stored is {"code", "name"}: the code is what identifies the school (unique, kept
    through a rename; names are neither), the name is kept as filed so the tables and exports
    read a row without the database."""

    district: str
    convener: tuple
    schools: tuple

    def value(self, code, name):
        return {"code": code, "name": name}

    def find(self, raw, label):
        """The value for `raw` as typed (spaces, full-width spaces and letters ignored)."""
        key = _flat(raw)
        by_code = [s for s in self.schools if _flat(s[0]) == key]
        found = by_code or [s for s in self.schools if _flat(s[1]) == key]
        if len(found) == 1:
            return self.value(*found[0])
        if found:
            codes = "、".join(code for code, _ in found)
            raise RuleError(f"{self.district}有 {len(found)} 所學校名為「{found[0][1]}」，"
                            f"請改填學校代碼（{codes}）。")  # fmt: skip
        raise RuleError(f"{label}「{_echo(raw)}」不是{self.district}的學校：請填本分區的學校名稱"
                        f"或學校代碼，或留空代表召集學校（{self.convener[1]}）。")  # fmt: skip

    def name_of(self, code):
        """The school's name today (None for a code no longer in the district)."""
        return next((name for c, name in self.schools if c == code), None)


def school_code(value):
    """The 學校代碼 of a stored `school` value (None for a name stored alone)."""
    return value.get("code") if isinstance(value, dict) else None


def _echo(raw, most=30):
    """Text typed, quoted back in a message: no line breaks, and not all of a very long one."""
    text = " ".join(str(raw).split())
    return text if len(text) <= most else f"{text[:most]}…"


def _period(start, end):
    if start == end:
        return rocdate.format_short(start)
    first = rocdate.format_short(start)
    if start.year != end.year:
        return f"{first}~{rocdate.format_short(end)}"
    if start.month != end.month:
        return f"{first}~{end.month}/{end.day}"
    return f"{first}~{end.day}"


def _flat(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


# --- one value -----------------------------------------------------------------------------


def parse(column, text, *, school_year, school_name="", schools=None):
    """`text` as typed into `column` → its typed JSON value (None when empty and not required).
    Raises RuleError with a Chinese message that says what to write instead. A `school` column
    takes the filing school `school_name` (blank means it), or in a district-filed survey any
    of `schools` (a `DistrictSchools`; blank means its convener school)."""
    if isinstance(text, date):  # an Excel date cell
        text = rocdate.format_short(text)
    raw = str(text if text is not None else "").strip()
    if not raw:
        if column.type == "school" and schools is not None:
            return schools.value(*schools.convener)
        if column.type == "school" and school_name:
            return school_name
        if column.required:
            raise RuleError(f"請填寫{column.label}。")
        return None
    kind = column.type
    if kind == "text":
        if len(raw) > MAX_TEXT:
            raise RuleError(f"{column.label}最多 {MAX_TEXT} 字。")
        return raw
    if kind == "integer":
        number = _whole_number(_flat(raw).replace(",", "").rstrip("人名台個件份"))
        if number is None:
            raise RuleError(f"{column.label}「{raw}」須為整數，例如 20。")
        low, high = column.options.get("min"), column.options.get("max")
        if low is not None and number < low:
            raise RuleError(f"{column.label}不可小於 {low}。")
        if number > (high if high is not None else MAX_INTEGER):
            raise RuleError(
                f"{column.label}不可超過 {high if high is not None else MAX_INTEGER:,}。"
            )
        return number
    if kind == "money":
        try:
            return parse_fee(raw)
        except RuleError:
            raise RuleError(
                f"{column.label}「{raw}」不是金額：請填「免費」或新臺幣整數金額，例如 500。"
            ) from None
    if kind == "date":
        try:
            return rocdate.parse_date(raw, school_year=school_year).isoformat()
        except rocdate.ROCDateError as exc:
            raise RuleError(f"{column.label}：{exc}") from None
    if kind == "date_range":
        start, end = parse_dates(raw, school_year, column.label)
        return {"start": start.isoformat(), "end": end.isoformat()}
    if kind == "grade_range":
        try:
            lo, hi, gender = parse_grade_cell(raw.replace("男生", "").replace("不限", ""))
        except RuleError:
            raise RuleError(
                f"{column.label}「{raw}」無法辨識：請寫成「4~6年級」，可加「女生」或「女生優先」。"
            ) from None
        if "男生" in raw:
            gender = "boys_only"
        if not (1 <= lo <= hi <= 12):
            raise RuleError(f"{column.label}須介於 1 至 12 年級，且起始不大於結束。")
        return {"from": lo, "to": hi, "gender": gender}
    if kind == "choice":
        if raw not in column.choices:
            raise RuleError(f"{column.label}「{raw}」不在選項中：{'、'.join(column.choices)}。")
        return raw
    if kind == "school":
        if schools is not None:
            return schools.find(raw, column.label)
        if school_name and raw != school_name:
            raise RuleError(f"{column.label}須為貴校（{school_name}），或留空。")
        return raw
    if kind == "email":
        flat = _flat(raw)
        if not _EMAIL.match(flat):
            raise RuleError(
                f"{column.label}「{raw}」不是電子郵件地址，例如 it@school.ntpc.edu.tw。"
            )
        return flat.lower()
    if kind == "phone":
        flat = unicodedata.normalize("NFKC", raw).strip()
        if not _PHONE.match(flat.replace(" ", "")):
            raise RuleError(f"{column.label}「{raw}」不是電話號碼，例如 02-2960-3456#123。")
        return flat
    raise RuleError(f"不明的欄位類型「{kind}」。")


def show(column, value, *, school_year):
    """A stored value written back as people type it."""
    if value is None:
        return ""
    kind = column.type
    if kind == "money":
        return "免費" if not value else str(value)
    if kind == "school" and isinstance(value, dict):
        return str(value.get("name", ""))
    if kind == "date":
        return rocdate.format_short(date.fromisoformat(value))
    if kind == "date_range":
        start, end = date.fromisoformat(value["start"]), date.fromisoformat(value["end"])
        return format_range_in_year(start, end, school_year)
    if kind == "grade_range":
        lo, hi, gender = value["from"], value["to"], value.get("gender", "open")
        grades = f"{lo}年級" if lo == hi else f"{lo}~{hi}年級"
        word = {**GENDERS, "boys_only": "男生"}.get(gender, "")
        return f"{grades} {word}" if gender != "open" else grades
    return str(value)


def _dates(column, value):
    """(start, end) of a date or date_range value."""
    if value is None:
        return None
    if column.type == "date":
        d = date.fromisoformat(value)
        return d, d
    if column.type == "date_range":
        return date.fromisoformat(value["start"]), date.fromisoformat(value["end"])
    return None


# --- the table ----------------------------------------------------------------------------


@dataclass
class TableResult:
    rows: list = field(default_factory=list)  # [{key: value}] when there is no problem
    problems: list = field(default_factory=list)  # [Problem]

    @property
    def ok(self):
        return not self.problems


def check_table(columns, rules, raw_rows, *, school_year, school_name="", schools=None):
    """Read every row (dicts of column key → text) by its columns' types, then judge the rules.
    Every problem is reported; `rows` is filled only when there are none."""
    result = TableResult()
    typed = []
    for number, raw in enumerate(raw_rows, start=1):
        row, row_ok = {}, True
        for column in columns:
            try:
                row[column.key] = parse(column, raw.get(column.key, ""), school_year=school_year,
                                        school_name=school_name, schools=schools)  # fmt: skip
            except RuleError as exc:
                result.problems.append(Problem(number, column.label, "type", str(exc), column.key))
                row_ok = False
        typed.append(row if row_ok else None)
    result.problems.extend(judge_rows(columns, rules, typed))
    result.problems.sort(key=lambda p: (p.row or 10**9,))
    if not result.problems:
        result.rows = typed
    return result


def judge_rows(columns, rules, typed):
    """The rules' problems with rows already typed (None for a row that could not be read)."""
    by_key = {c.key: c for c in columns}
    return [p for rule in rules for p in _judge(rule, by_key, typed)]


def _judge(rule, by_key, typed):
    column = by_key.get(rule.column)
    label = column.label if column else ""
    if rule.kind == "max_rows":
        if rule.limit is not None and len(typed) > rule.limit:
            return [Problem(None, "", rule.kind, f"最多 {rule.limit} 列，目前有 {len(typed)} 列。")]
        return []
    if rule.kind == "total":
        total = sum(r.get(rule.column) or 0 for r in typed if r is not None)
        if rule.limit is not None and total > rule.limit:
            return [Problem(None, label, rule.kind,
                            f"各列{label}合計 {total:,}，超過上限 {rule.limit:,}。", rule.column)]  # fmt: skip
        return []
    problems = []
    for number, row in enumerate(typed, start=1):
        if row is None or column is None:
            continue
        span = _dates(column, row.get(rule.column))
        if span is None:
            continue
        start, end = span
        name = rule.label or "規定"
        if rule.kind == "within" and not (rule.start <= start and end <= rule.end):
            problems.append(Problem(number, label, rule.kind,
                                    f"{label}須在{name}期間（{rule.period_text}）內。", rule.column))  # fmt: skip
        elif rule.kind == "outside" and start <= rule.end and end >= rule.start:
            problems.append(Problem(number, label, rule.kind,
                                    f"{label}不可在{name}期間（{rule.period_text}），請改期。",
                                    rule.column))  # fmt: skip
        elif rule.kind == "before":
            other = by_key.get(rule.other)
            later = _dates(other, row.get(rule.other)) if other else None
            if later is not None and end >= later[0]:
                problems.append(Problem(
                    number, label, rule.kind,
                    f"{label}截止日（{rocdate.format_short(end)}）須早於{other.label}開始日"
                    f"（{rocdate.format_short(later[0])}）。", rule.column,
                ))  # fmt: skip
    return problems


def rule_words(rule, labels):
    """The rule as the bureau and the schools read it; `labels` maps column keys to labels."""
    label = labels.get(rule.column, rule.column)
    if rule.kind == "within":
        return f"{label}須在{rule.label or '規定'}期間（{rule.period_text}）內。"
    if rule.kind == "outside":
        return f"{label}不可在{rule.label or '規定'}期間（{rule.period_text}）。"
    if rule.kind == "before":
        return f"{label}須在{labels.get(rule.other, rule.other)}開始前截止。"
    if rule.kind == "max_rows":
        return f"最多填 {rule.limit} 列。"
    if rule.kind == "total":
        return f"各列{label}合計不可超過 {rule.limit:,}。"
    return RULE_KINDS.get(rule.kind, rule.kind)


# --- as data (JSON) ------------------------------------------------------------------------


def column_as_data(column):
    return {"key": column.key, "label": column.label, "type": column.type,
            "required": column.required, "help": column.help, "options": dict(column.options)}  # fmt: skip


def rule_as_data(rule, columns=()):
    labels = {c.key: c.label for c in columns}
    data = {"kind": rule.kind}
    if rule.column:
        data["column"] = labels.get(rule.column, rule.column)
    if rule.other:
        data["other"] = labels.get(rule.other, rule.other)
    if rule.start:
        data |= {"start": rule.start.isoformat(), "end": rule.end.isoformat(),
                 "label": rule.label, "text": rule.period_text}  # fmt: skip
    if rule.limit is not None:
        data["limit"] = rule.limit
    return data


WINTER_CAMP_KEYS = ("category", "school", "course_name", "activity", "venue", "fee",
                    "registration", "grades", "capacity")  # fmt: skip


def is_winter_camp(columns):
    """The seed's table: filed through the winter-camp form (grade selects, named fields)."""
    return tuple(c.key for c in columns) == WINTER_CAMP_KEYS


def winter_camp_columns(categories=("技能研習",)):
    """The seed's table (項次 類型 承辦學校 課程名稱 活動日期 活動地點 費用 報名日期 參加年級 人數) as
    columns: what the existing winter-camp survey becomes."""
    return [
        Column("category", "類型", "choice", options={"choices": list(categories)}),
        Column("school", "承辦學校", "school", required=False),
        Column("course_name", "課程名稱", "text"),
        Column("activity", "活動日期", "date_range", help="例如 2/3~4 或 109/2/3"),
        Column("venue", "活動地點", "text"),
        Column("fee", "費用", "money", help="免費或金額（元）"),
        Column("registration", "報名日期", "date_range", help="例如 12/25~1/3"),
        Column("grades", "參加年級", "grade_range", help="例如 4~6年級 女生"),
        Column("capacity", "人數", "integer", options={"min": 1, "max": 10_000}),
    ]
