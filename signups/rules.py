"""The winter-camp table's own form, as pure functions: text in, values or Chinese messages out.

The winter-camp filing form splits 參加年級 into two selects and a 招收對象 select and keeps the
named `OfferValues`; this module reads those fields. The survey's rules are not judged here:
`clean_row` hands the row's dates to `columns.py`, the one rule engine every survey uses, with
the survey's stored rules (`SurveyRules.table_rules`). No database here.
Every message names what is wrong and what to write instead.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from portal import rocdate

GENDERS = {"open": "不限", "girls_only": "女生", "girls_first": "女生優先"}

# The raw fields of one row (form field names) and the column each belongs to in the table.
LABELS = {
    "category": "類型",
    "course_name": "課程名稱",
    "activity": "活動日期",
    "venue": "活動地點",
    "fee": "費用",
    "registration": "報名日期",
    "grade_from": "參加年級",
    "grade_to": "參加年級",
    "gender": "參加年級",
    "capacity": "人數",
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str = ""

    def overlaps(self, start, end):
        return start <= self.end and end >= self.start

    @property
    def text(self):
        return format_range(self.start, self.end)


@dataclass(frozen=True)
class SurveyRules:
    school_year: int
    categories: tuple = ()
    window: Period | None = None
    blackouts: tuple = ()
    registration_before_activity: bool = True
    # the survey's stored rules (columns.Rule); when empty they are made from the fields above
    table_rules: tuple = ()

    def as_rules(self):
        """The rules `columns.py` judges the table's dates with."""
        from .columns import Rule

        if self.table_rules:
            return list(self.table_rules)
        found = []
        if self.window is not None:
            found.append(Rule("within", "activity", start=self.window.start,
                              end=self.window.end, label=self.window.label))  # fmt: skip
        found += [Rule("outside", "activity", start=b.start, end=b.end, label=b.label)
                  for b in self.blackouts]  # fmt: skip
        if self.registration_before_activity:
            found.append(Rule("before", "registration", other="activity"))
        return found


@dataclass(frozen=True)
class OfferValues:
    category: str
    course_name: str
    activity: tuple
    venue: str
    fee: int
    registration: tuple
    grades: tuple
    gender: str
    capacity: int


class RuleError(ValueError):
    """One field's value is wrong; the message is in Chinese."""


# What a person may type for the table's numbers: far above any real course, and far below what
# the database's integer columns hold (a larger number would be an error there, not a message).
MAX_FEE = 1_000_000
MAX_CAPACITY = 10_000


@dataclass
class RowResult:
    values: OfferValues | None = None
    errors: dict = field(default_factory=dict)  # raw field name -> [messages]

    def add(self, name, message):
        self.errors.setdefault(name, []).append(message)


# --- writing -------------------------------------------------------------------------------


def format_range(start, end):
    """ROC dates for the form: 109/2/3, 109/2/3~4, 109/1/30~2/4, 108/12/25~109/1/3."""
    first = rocdate.format_short(start)
    if start == end:
        return first
    if start.year != end.year:
        return f"{first}~{rocdate.format_short(end)}"
    if start.month != end.month:
        return f"{first}~{end.month}/{end.day}"
    return f"{first}~{end.day}"


def format_range_in_year(start, end, school_year):
    """The table's short form (2/3~4, 12/25~1/3) when both dates fall in the survey's school
    year, which is how the parser will read them back; otherwise full ROC dates."""
    if rocdate.school_year_of(start) == school_year == rocdate.school_year_of(end):
        return rocdate.format_month_day_range(start, end)
    return format_range(start, end)


def format_grades(grade_from, grade_to, gender):
    """The table's 參加年級 cell: 4~6年級 女生, 3年級, 1~12年級 女生優先."""
    grades = f"{grade_from}年級" if grade_from == grade_to else f"{grade_from}~{grade_to}年級"
    return f"{grades} {GENDERS[gender]}" if gender != "open" else grades


def format_fee(fee):
    return "免費" if not fee else f"{fee:,} 元"


# --- reading one field ---------------------------------------------------------------------


def _flat(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def parse_fee(text):
    """免費 / 0 → 0; 500, NT$1,200, 1200元 → the amount in NT$ (whole dollars)."""
    flat = _flat(text).upper().replace("NT$", "").replace("NTD", "").replace("$", "")
    if flat in {"免費", "0", "無", "不收費"}:
        return 0
    flat = flat.replace(",", "").removesuffix("元")
    if not flat:
        raise RuleError("請填寫費用：免費，或新臺幣金額（整數），例如 500。")
    amount = _whole_number(flat)
    if amount is None:
        raise RuleError(f"費用「{text}」不是金額：請填「免費」或新臺幣整數金額，例如 500。")
    if amount > MAX_FEE:
        raise RuleError(f"費用不可超過新臺幣 {MAX_FEE:,} 元。")
    return amount


def parse_capacity(text):
    flat = _flat(text).removesuffix("人").removesuffix("名")
    capacity = _whole_number(flat)
    if capacity is None or capacity < 1:
        shown = f"「{text}」" if str(text or "").strip() else ""
        raise RuleError(f"人數{shown}須為正整數，例如 20。")
    if capacity > MAX_CAPACITY:
        raise RuleError(f"人數不可超過 {MAX_CAPACITY:,} 人。")
    return capacity


def parse_grade(text, which):
    grade = _whole_number(_flat(text).removesuffix("年級"))
    if grade is None:
        raise RuleError(f"參加年級（{which}）請填 1 到 12 的整數。")
    return grade


def _whole_number(flat):
    """The number written in ASCII digits (full-width ones are made ASCII by `_flat`), or None.
    Beyond 15 digits it is only "too large" (Python refuses int() of thousands of digits)."""
    if not (flat.isascii() and flat.isdigit()):
        return None
    return int(flat) if len(flat) <= 15 else 10**15


_GRADE_CELL = re.compile(
    r"^(?:國小|國中|高中)?(\d{1,2})(?:[~～\-至到](\d{1,2}))?(?:年級)?(女生優先|女生專班|女生|不限)?$"
)


def parse_grade_cell(text):
    """The table's cell 4~6年級 女生 → (4, 6, 'girls_only')."""
    m = _GRADE_CELL.match(_flat(text))
    if not m:
        raise RuleError(
            f"參加年級「{text}」無法辨識：請寫成「4~6年級」，女生專班加「女生」，女生優先加「女生優先」。"
        )
    lo = int(m[1])
    hi = int(m[2]) if m[2] else lo
    gender = {"女生": "girls_only", "女生專班": "girls_only", "女生優先": "girls_first"}.get(
        m[3], "open"
    )
    return lo, hi, gender


def parse_dates(text, school_year, what):
    if not str(text or "").strip():
        raise RuleError(f"請填寫{what}，例如「2/3~4」或「109/2/3」。")
    try:
        return rocdate.parse_date_range(text, school_year=school_year)
    except rocdate.ROCDateError as exc:
        raise RuleError(f"{what}：{exc}") from None


# --- the survey's rules --------------------------------------------------------------------


def check_grades(lo, hi):
    messages = []
    if not (1 <= lo <= 12 and 1 <= hi <= 12):
        messages.append("參加年級須介於 1 至 12 年級。")
    elif lo > hi:
        messages.append(f"參加年級起訖顛倒：起始年級（{lo}）大於結束年級（{hi}）。")
    return messages


def check_dates(activity, registration, rules):
    """{field: [messages]} for the row's dates by the survey's rules, judged by `columns.py`."""
    from .columns import judge_rows, winter_camp_columns

    iso = lambda span: {"start": span[0].isoformat(), "end": span[1].isoformat()}  # noqa: E731
    row = {"activity": iso(activity)}
    if registration is not None:
        row["registration"] = iso(registration)
    found = {}
    for problem in judge_rows(winter_camp_columns(), rules.as_rules(), [row]):
        found.setdefault(problem.key, []).append(problem.message)
    return found


def clean_row(raw, rules):
    """Read and check one row given as text (form or spreadsheet). Returns a RowResult whose
    `values` is set only when there are no errors."""
    result = RowResult()

    def read(name, fn, *args):
        try:
            return fn(raw.get(name, ""), *args)
        except RuleError as exc:
            result.add(name, str(exc))
            return None

    category = str(raw.get("category") or "").strip()
    if not category:
        result.add("category", "請選擇類型。")
    elif rules.categories and category not in rules.categories:
        result.add("category", f"類型「{category}」不在選項中：{'、'.join(rules.categories)}。")
    course_name = str(raw.get("course_name") or "").strip()
    if not course_name:
        result.add("course_name", "請填寫課程名稱。")
    venue = str(raw.get("venue") or "").strip()
    if not venue:
        result.add("venue", "請填寫活動地點。")
    activity = read("activity", parse_dates, rules.school_year, "活動日期")
    registration = read("registration", parse_dates, rules.school_year, "報名日期")
    fee = read("fee", parse_fee)
    capacity = read("capacity", parse_capacity)
    lo = read("grade_from", parse_grade, "起")
    hi = read("grade_to", parse_grade, "迄")
    gender = str(raw.get("gender") or "open")
    if gender not in GENDERS:
        result.add("gender", "招收對象請選擇：不限、女生（女生專班）或女生優先。")

    if lo is not None and hi is not None:
        for message in check_grades(lo, hi):
            result.add("grade_from" if not 1 <= lo <= 12 else "grade_to", message)
    if activity is not None:
        for name, messages in check_dates(activity, registration, rules).items():
            for message in messages:
                result.add(name, message)

    if not result.errors:
        result.values = OfferValues(
            category=category,
            course_name=course_name,
            activity=activity,
            venue=venue,
            fee=fee,
            registration=registration,
            grades=(lo, hi),
            gender=gender,
            capacity=capacity,
        )
    return result
