from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import rocdate
from portal.rocdate import ROCDateError

TAIPEI = ZoneInfo("Asia/Taipei")
SEED_MEETING_DAY = date(2019, 9, 10)


def test_the_seed_meeting_day_is_written_as_the_minutes_write_it():
    assert rocdate.format_date(SEED_MEETING_DAY) == "民國 108 年 9 月 10 日（星期二）"
    assert rocdate.format_date(SEED_MEETING_DAY, era=False) == "108 年 9 月 10 日（星期二）"
    assert rocdate.format_short(date(2019, 9, 23)) == "108/9/23"


@pytest.mark.parametrize(
    "t, text",
    [(time(10, 0), "上午 10 時"), (time(12, 30), "下午 12 時 30 分"), (time(0, 5), "上午 12 時 5 分"),
     (time(17, 0), "下午 5 時")],
)  # fmt: skip
def test_times_use_morning_and_afternoon(t, text):
    assert rocdate.format_time(t) == text


def test_aware_datetimes_are_shown_in_taipei_time():
    utc_two_am = datetime(2019, 9, 10, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert rocdate.format_datetime(utc_two_am) == "民國 108 年 9 月 10 日（星期二）上午 10 時"


@pytest.mark.parametrize(
    "text",
    ["108 年 9 月 23 日", "108年9月23日", "108/9/23", "108-09-23", "108.9.23", "民國108年9月23日",
     "一百零八年九月二十三日", "１０８／９／２３", "108 年 9 月 23 日（星期一）", "2019-09-23"],
)  # fmt: skip
def test_the_forms_people_type_are_read(text):
    assert rocdate.parse_date(text) == date(2019, 9, 23)


def test_a_bare_month_and_day_is_placed_in_the_school_year():
    assert rocdate.parse_date("12/25", school_year=108) == date(2019, 12, 25)
    assert rocdate.parse_date("1/3", school_year=108) == date(2020, 1, 3)


@pytest.mark.parametrize(
    "text, school_year, expected",
    [("109年1月21日至2月10日", None, (date(2020, 1, 21), date(2020, 2, 10))),
     ("12/25~1/3", 108, (date(2019, 12, 25), date(2020, 1, 3))),
     ("12/25~ 1/3", 108, (date(2019, 12, 25), date(2020, 1, 3))),
     ("2/3~4", 108, (date(2020, 2, 3), date(2020, 2, 4))),
     ("109/1/23～1/29", None, (date(2020, 1, 23), date(2020, 1, 29))),
     ("2/3", 108, (date(2020, 2, 3), date(2020, 2, 3)))],
)  # fmt: skip
def test_ranges_from_the_seed_are_read(text, school_year, expected):
    assert rocdate.parse_date_range(text, school_year=school_year) == expected


@pytest.mark.parametrize("text", ["", "明天", "108/13/1", "108/2/30", "9/23", "0/1/1", "abc/1/2"])
def test_malformed_dates_name_the_accepted_forms(text):
    with pytest.raises(ROCDateError) as exc:
        rocdate.parse_date(text)
    assert "108" in str(exc.value)  # the message shows an example of an accepted form


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ROCDateError, match="早於"):
        rocdate.parse_date_range("109/2/10~109/1/21")


@pytest.mark.parametrize(
    "text, expected",
    [("上午 10 時", time(10)), ("下午12:30", time(12, 30)), ("14:00", time(14)),
     ("上午十時三十分", time(10, 30)), ("下午 2 時半", time(14, 30))],
)  # fmt: skip
def test_times_are_read(text, expected):
    assert rocdate.parse_time(text) == expected


def test_compact_ranges_are_written_like_the_seed_table():
    assert rocdate.format_month_day_range(date(2020, 2, 3), date(2020, 2, 4)) == "2/3~4"
    assert rocdate.format_month_day_range(date(2019, 12, 25), date(2020, 1, 3)) == "12/25~1/3"


dates = st.dates(min_value=date(1912, 1, 1), max_value=date(2300, 12, 31))


@given(dates)
def test_round_trip_long_form(d):
    assert rocdate.parse_date(rocdate.format_date(d)) == d
    assert rocdate.parse_date(rocdate.format_date(d, era=False, weekday=False)) == d


@given(dates)
def test_round_trip_short_form(d):
    assert rocdate.parse_date(rocdate.format_short(d)) == d


@given(st.integers(min_value=1, max_value=300), st.data())
def test_round_trip_compact_range_inside_a_school_year(school_year, data):
    first = date(school_year + 1911, 8, 1)
    last = date(school_year + 1912, 7, 31)
    start = data.draw(st.dates(min_value=first, max_value=last))
    end = data.draw(st.dates(min_value=start, max_value=last))
    text = rocdate.format_month_day_range(start, end)
    assert rocdate.parse_date_range(text, school_year=school_year) == (start, end)


@pytest.mark.parametrize(
    ("text", "school_year", "expected"),
    [
        # 112 學年's winter break ends on 2024's leap day; the start's year has no 2/29
        ("12/25~2/29", 112, (date(2023, 12, 25), date(2024, 2, 29))),
        ("8/1~2/29", 196, (date(2107, 8, 1), date(2108, 2, 29))),  # found by hypothesis
        ("12/25~1/3", 108, (date(2019, 12, 25), date(2020, 1, 3))),
        ("1/21~2/10", 108, (date(2020, 1, 21), date(2020, 2, 10))),
    ],
)
def test_a_range_ending_on_a_leap_day_after_new_year(text, school_year, expected):
    assert rocdate.parse_date_range(text, school_year=school_year) == expected


@given(st.times())
def test_round_trip_time_to_the_minute(t):
    assert rocdate.parse_time(rocdate.format_time(t)) == t.replace(second=0, microsecond=0)
