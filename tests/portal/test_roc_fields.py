"""The portal's ROC date and time fields: what people type is what they get, in Asia/Taipei."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django import forms

from portal.forms_fields import ROCDateField, ROCDateTimeField

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("115/12/31 17:00", datetime(2026, 12, 31, 17, 0, tzinfo=TAIPEI)),
        ("115年12月31日 下午5時", datetime(2026, 12, 31, 17, 0, tzinfo=TAIPEI)),
        ("  115/12/31   上午 9 時 30 分 ", datetime(2026, 12, 31, 9, 30, tzinfo=TAIPEI)),
        ("115/12/31", datetime(2026, 12, 31, 0, 0, tzinfo=TAIPEI)),
    ],
)
def test_a_roc_date_and_time_is_read_in_taipei(typed, expected):
    assert ROCDateTimeField().clean(typed) == expected


def test_a_date_alone_takes_the_forms_default_time():
    from datetime import time

    field = ROCDateTimeField(default_time=time(17, 0))
    assert field.clean("115/12/31") == datetime(2026, 12, 31, 17, 0, tzinfo=TAIPEI)


@pytest.mark.parametrize("typed", ["115/13/1 10:00", "abc", "115/12/31 25:00"])
def test_a_wrong_date_or_time_is_a_chinese_error(typed):
    with pytest.raises(forms.ValidationError) as refused:
        ROCDateTimeField().clean(typed)
    assert any("日期" in m or "時間" in m for m in refused.value.messages)


def test_the_field_shows_back_what_it_reads():
    field = ROCDateTimeField()
    shown = field.widget.format_value(datetime(2026, 12, 31, 9, 5, tzinfo=TAIPEI))
    assert shown == "115/12/31 09:05"
    assert field.clean(shown) == datetime(2026, 12, 31, 9, 5, tzinfo=TAIPEI)


def test_the_date_field_shows_roc_and_reads_it_back():
    field = ROCDateField()
    assert field.widget.format_value(date(2019, 9, 23)) == "108/9/23"
    assert field.clean("108/9/23") == date(2019, 9, 23)
