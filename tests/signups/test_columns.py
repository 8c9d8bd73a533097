"""Columns and rules as data (signups/columns.py): each type read from text, stored typed and
shown back as typed; each rule names the row, the column and the rule in Chinese."""

from datetime import date

import pytest

from signups.columns import Column, Rule, check_table, parse, show, winter_camp_columns
from signups.rules import RuleError

YEAR = 108


@pytest.mark.parametrize(
    ("column", "typed", "stored", "shown"),
    [
        (Column("a", "名稱"), " Scratch 遊戲 ", "Scratch 遊戲", "Scratch 遊戲"),
        (Column("n", "數量", "integer", options={"min": 0, "max": 99}), "１２台", 12, "12"),
        (Column("f", "費用", "money"), "NT$1,200", 1200, "1200"),
        (Column("f", "費用", "money"), "免費", 0, "免費"),
        (Column("d", "日期", "date"), "109/2/3", "2020-02-03", "109/2/3"),
        (Column("d", "日期", "date"), "2/3", "2020-02-03", "109/2/3"),
        (Column("r", "活動日期", "date_range"), "2/3~4", {"start": "2020-02-03",
                                                     "end": "2020-02-04"}, "2/3~4"),
        (Column("r", "報名日期", "date_range"), "12/25~1/3", {"start": "2019-12-25",
                                                       "end": "2020-01-03"}, "12/25~1/3"),
        (Column("g", "參加年級", "grade_range"), "4~6年級 女生",
         {"from": 4, "to": 6, "gender": "girls_only"}, "4~6年級 女生"),
        (Column("g", "參加年級", "grade_range"), "7~9年級男生",
         {"from": 7, "to": 9, "gender": "boys_only"}, "7~9年級 男生"),
        (Column("g", "參加年級", "grade_range"), "3年級 不限",
         {"from": 3, "to": 3, "gender": "open"}, "3年級"),
        (Column("c", "類型", "choice", options={"choices": ["營隊", "研習"]}), "營隊", "營隊", "營隊"),
        (Column("e", "電子郵件", "email"), "IT@XDPS.ntpc.edu.tw", "it@xdps.ntpc.edu.tw",
         "it@xdps.ntpc.edu.tw"),
        (Column("p", "電話", "phone"), "02-2960-3456#123", "02-2960-3456#123", "02-2960-3456#123"),
        (Column("p", "電話", "phone"), "0912-345-678", "0912-345-678", "0912-345-678"),
    ],
)  # fmt: skip
def test_each_type_is_stored_typed_and_shown_as_typed(column, typed, stored, shown):
    assert parse(column, typed, school_year=YEAR) == stored
    assert show(column, stored, school_year=YEAR) == shown


def test_a_school_column_defaults_to_the_filing_school_and_refuses_another():
    column = Column("s", "承辦學校", "school", required=False)
    assert parse(column, "", school_year=YEAR, school_name="新店國小") == "新店國小"
    with pytest.raises(RuleError, match="須為貴校（新店國小）"):
        parse(column, "北新國小", school_year=YEAR, school_name="新店國小")


@pytest.mark.parametrize(
    ("column", "typed", "message"),
    [
        (Column("n", "數量", "integer", options={"max": 99}), "100", "數量不可超過 99。"),
        (Column("n", "數量", "integer"), "很多", "數量「很多」須為整數"),
        (Column("f", "費用", "money"), "五百", "不是金額"),
        (Column("p", "電話", "phone"), "打給我", "例如 02-2960-3456#123"),
        (Column("e", "電子郵件", "email"), "it@", "不是電子郵件地址"),
        (Column("c", "類型", "choice", options={"choices": ["營隊"]}), "研習", "不在選項中：營隊"),
        (Column("a", "名稱"), "", "請填寫名稱。"),
    ],
)
def test_bad_values_get_a_chinese_message(column, typed, message):
    with pytest.raises(RuleError, match=message):
        parse(column, typed, school_year=YEAR)


def test_rules_as_data_name_the_row_the_column_and_the_rule():
    columns = winter_camp_columns(["技能研習"])
    rules = [
        Rule("within", "activity", start=date(2020, 1, 21), end=date(2020, 2, 10), label="寒假"),
        Rule("outside", "activity", start=date(2020, 1, 23), end=date(2020, 1, 29),
             label="除夕及春假"),
        Rule("before", "registration", other="activity"),
        Rule("max_rows", limit=2),
        Rule("total", "capacity", limit=50),
    ]  # fmt: skip
    row = {"category": "技能研習", "course_name": "FUN Coding", "activity": "2/3~4",
           "venue": "新店國小", "fee": "免費", "registration": "12/25~1/3",
           "grades": "4~6年級 女生", "capacity": "20"}  # fmt: skip
    good = check_table(columns, rules, [row], school_year=YEAR, school_name="新店國小")
    assert good.ok and good.rows[0]["school"] == "新店國小"
    rows = [row, {**row, "activity": "1/25"}, {**row, "registration": "1/1~2/5", "capacity": "30"}]
    bad = check_table(columns, rules, rows, school_year=YEAR, school_name="新店國小")
    assert [str(p) for p in bad.problems] == [
        "第 2 列，欄位 活動日期：活動日期不可在除夕及春假期間（109/1/23~29），請改期。",
        "第 3 列，欄位 報名日期：報名日期截止日（109/2/5）須早於活動日期開始日（109/2/3）。",
        "最多 2 列，目前有 3 列。",
        "欄位 人數：各列人數合計 70，超過上限 50。",
    ]
    assert {p.rule for p in bad.problems} == {"outside", "before", "max_rows", "total"}
    assert bad.rows == []
