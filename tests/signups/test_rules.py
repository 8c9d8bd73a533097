"""The survey's rules as pure functions: no database."""

from datetime import date

import pytest

from signups import rules
from tests.signups.conftest import GOOD_ROW

WINTER = rules.SurveyRules(
    school_year=108,
    categories=("技能研習", "營隊"),
    window=rules.Period(date(2020, 1, 21), date(2020, 2, 10), "寒假"),
    blackouts=(rules.Period(date(2020, 1, 23), date(2020, 1, 29), "除夕及春假"),),
)


def row(**changes):
    return {**GOOD_ROW, **changes}


def test_the_seeds_example_row_is_accepted():
    result = rules.clean_row(row(), WINTER)
    assert result.errors == {}
    assert result.values.activity == (date(2020, 2, 3), date(2020, 2, 4))
    assert result.values.registration == (date(2019, 12, 25), date(2020, 1, 3))
    assert result.values.fee == 0 and result.values.capacity == 20


def test_an_activity_in_the_new_year_holiday_is_refused_with_the_holiday_named():
    result = rules.clean_row(row(activity="109/1/25"), WINTER)
    assert result.errors["activity"] == ["活動日期不可在除夕及春假期間（109/1/23~29），請改期。"]


def test_an_activity_outside_the_vacation_is_refused():
    result = rules.clean_row(row(activity="2/11~12"), WINTER)
    assert result.errors["activity"] == ["活動日期須在寒假期間（109/1/21~2/10）內。"]


def test_an_activity_spanning_the_holiday_is_refused_too():
    assert "除夕及春假" in rules.clean_row(row(activity="1/21~2/3"), WINTER).errors["activity"][0]


def test_registration_ending_on_or_after_the_first_day_is_refused():
    result = rules.clean_row(row(registration="1/20~2/3"), WINTER)
    assert result.errors["registration"] == [
        "報名日期截止日（109/2/3）須早於活動日期開始日（109/2/3）。"
    ]


def test_registration_rule_can_be_switched_off_by_the_survey():
    relaxed = rules.SurveyRules(**{**WINTER.__dict__, "registration_before_activity": False})
    assert rules.clean_row(row(registration="1/20~2/3"), relaxed).errors == {}


@pytest.mark.parametrize(
    ("lo", "hi", "field", "message"),
    [
        ("0", "6", "grade_from", "參加年級須介於 1 至 12 年級。"),
        ("4", "13", "grade_to", "參加年級須介於 1 至 12 年級。"),
        ("6", "4", "grade_to", "參加年級起訖顛倒：起始年級（6）大於結束年級（4）。"),
        ("", "4", "grade_from", "參加年級（起）請填 1 到 12 的整數。"),
    ],
)
def test_grades_out_of_range_or_reversed_are_refused(lo, hi, field, message):
    assert rules.clean_row(row(grade_from=lo, grade_to=hi), WINTER).errors[field] == [message]


@pytest.mark.parametrize("capacity", ["0", "-3", "2.5", "二十", ""])
def test_capacity_must_be_a_positive_whole_number(capacity):
    assert "須為正整數" in rules.clean_row(row(capacity=capacity), WINTER).errors["capacity"][0]


@pytest.mark.parametrize(("text", "amount"), [("免費", 0), ("0", 0), ("500", 500),
                                              ("NT$1,200", 1200), ("300元", 300)])  # fmt: skip
def test_fee_is_free_or_an_amount(text, amount):
    assert rules.parse_fee(text) == amount


@pytest.mark.parametrize("fee", ["很便宜", "12.5", "-100"])
def test_a_fee_that_is_not_a_number_is_refused(fee):
    assert "不是金額" in rules.clean_row(row(fee=fee), WINTER).errors["fee"][0]


def test_a_category_the_survey_does_not_offer_is_refused():
    assert "不在選項中" in rules.clean_row(row(category="演唱會"), WINTER).errors["category"][0]


def test_unreadable_dates_name_the_field():
    assert (
        rules.clean_row(row(activity="下週"), WINTER).errors["activity"][0].startswith("活動日期：")
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("4~6年級 女生", (4, 6, "girls_only")), ("3年級", (3, 3, "open")),
     ("1-12年級女生優先", (1, 12, "girls_first")), ("５～６年級", (5, 6, "open"))],
)  # fmt: skip
def test_the_tables_grade_cell_is_read(cell, expected):
    assert rules.parse_grade_cell(cell) == expected


def test_the_grade_cell_is_written_like_the_seed():
    assert rules.format_grades(4, 6, "girls_only") == "4~6年級 女生"
    assert rules.format_grades(3, 3, "open") == "3年級"


def test_ranges_are_shown_as_roc_dates_the_parser_reads_back():
    for start, end in [(date(2020, 2, 3), date(2020, 2, 4)), (date(2019, 12, 25), date(2020, 1, 3)),
                       (date(2020, 1, 30), date(2020, 2, 2)), (date(2020, 2, 3), date(2020, 2, 3))]:  # fmt: skip
        text = rules.format_range(start, end)
        assert rules.parse_dates(text, 108, "活動日期") == (start, end)


def test_the_form_shows_dates_of_the_school_year_in_the_tables_short_form():
    assert rules.format_range_in_year(date(2019, 12, 25), date(2020, 1, 3), 108) == "12/25~1/3"
    assert rules.format_range_in_year(date(2020, 8, 3), date(2020, 8, 4), 108) == "109/8/3~4"


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [("fee", "2147483648", "費用不可超過新臺幣 1,000,000 元。"),
     ("fee", "9" * 5000, "費用不可超過新臺幣 1,000,000 元。"),
     ("capacity", "2147483648", "人數不可超過 10,000 人。"),
     ("capacity", "10001人", "人數不可超過 10,000 人。"),
     ("grade_from", "9" * 5000, "參加年級須介於 1 至 12 年級。")],
)  # fmt: skip
def test_numbers_beyond_what_a_course_can_have_are_refused_with_the_bound(field, text, message):
    assert rules.clean_row(row(**{field: text}), WINTER).errors[field] == [message]


def test_the_largest_fee_and_capacity_are_accepted():
    values = rules.clean_row(row(fee="1,000,000", capacity="10000"), WINTER).values
    assert (values.fee, values.capacity) == (rules.MAX_FEE, rules.MAX_CAPACITY)
