"""A meeting's date and starting time, read from text as minutes write it.

Real minutes write the moment in many ways, each read as a class:
- ROC or Gregorian years (民國 108 年, 108/9/10, 2019.09.10, 2019-09-10, 20190910);
- Chinese numerals, alone or mixed with digits (中華民國九十五年三月八日, 下午二時三十分, 二0五);
- weekdays in any form between date and time ((星期二), (二), (Sat), 星期五);
- characters dropped where the original had fields (民國1120315(星期三)下午2);
- times with 上午/下午/中午/晚上, AM/PM before or after, 時/點/分 or a colon, ranges (19:00~20:45);
- a month and day without a year (4/28), placed by a year found elsewhere in the document.
"""

import re
import unicodedata
from datetime import date, time

from portal import rocdate

_WEEKDAY = re.compile(
    r"[（(]\s*(?:星期|週|周|禮拜)?\s*[一二三四五六日天1-7]\s*[)）]"
    r"|(?:星期|禮拜)[一二三四五六日天]|[週周][一二三四五六日]"
    r"|[(（]\s*(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s*[)）]",
    re.I,
)
_CN = re.compile(r"[零〇○一二兩三四五六七八九十百]+")
_DATE = re.compile(
    r"(?<!\d)(\d{2,4})\s*(?:年|/|\.|-)\s*(\d{1,2})\s*(?:月|/|\.|-)\s*(\d{1,2})(?!\d)\s*日?"
)
_COMPACT_ROC = re.compile(r"民國\s*(\d{6,7})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
_MONTH_DAY = re.compile(r"(?<![\d/.])(\d{1,2})\s*(?:月|/)\s*(\d{1,2})(?![\d/])\s*日?")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)|(?<!\d)(\d{2,3})\s*(?:年|學年)")
_HALF = r"(上午|下午|中午|晚上|早上|傍晚|凌晨|AM|PM|am|pm|a\.m\.|p\.m\.)"
_AFTER = r"(AM|PM|am|pm|a\.m\.|p\.m\.)"  # 2pm; 下午 is written before the hour
_TIME = re.compile(
    rf"{_HALF}?\s*(?<![\d/.])(\d{{1,2}})(?![\d/])\s*"
    rf"(?:(?:[:：]|時|点|點)\s*(\d{{1,2}}|半)?\s*分?)?\s*{_AFTER}?"
)


def _flat(text):
    text = unicodedata.normalize("NFKC", str(text))
    text = _WEEKDAY.sub(" ", text)
    return _CN.sub(lambda m: str(rocdate.chinese_to_int(m.group())), text)


def _year(y):
    return y if y > 1911 else y + 1911


def _valid(y, m, d):
    try:
        return date(_year(y), m, d)
    except ValueError:
        return None


def find_date(text, *, year=None):
    """(date, text after it) or (None, text); `year` places a month/day without a year."""
    flat = _flat(text)
    for pattern in (_DATE, _COMPACT_ROC, _COMPACT):
        for m in pattern.finditer(flat):
            if pattern is _COMPACT_ROC:
                digits = m[1]
                if len(digits) == 7:
                    found = _valid(int(digits[:3]), int(digits[3:5]), int(digits[5:]))
                else:  # 1060925 lost a digit: 106 9 25, or 96 09 25
                    found = _valid(int(digits[:3]), int(digits[3]), int(digits[4:])) or _valid(
                        int(digits[:2]), int(digits[2:4]), int(digits[4:])
                    )
            else:
                found = _valid(int(m[1]), int(m[2]), int(m[3]))
            if found:
                return found, flat[m.end() :]
    if year:
        found, rest = month_day(flat, year)
        if found:
            return found, rest
    return None, flat


def has_month_day(text):
    return bool(_MONTH_DAY.search(_flat(text)))


def find_year(text):
    """A year written in the text, as (Gregorian year, is a school year) or (None, False):
    2018 and 113年 are calendar years; 112學年度 runs from August 112 to July 113."""
    for m in _YEAR.finditer(_flat(text)):
        y = int(m[1] or m[2])
        if m[1] or 30 <= y <= 200:
            return _year(y), "學年" in m.group()
    return None, False


def month_day(text, year, *, school_year=False):
    """(date, text after it) of a month and day without a year (4/28, 3月15日), or (None, text)."""
    flat = _flat(text)
    m = _MONTH_DAY.search(flat)
    if not m or not year:
        return None, flat
    month, day = int(m[1]), int(m[2])
    if school_year and month < 8:
        year += 1  # 112學年度's March is in 113
    return _valid(year, month, day), flat[m.end() :]


def find_time(text):
    """The first time of day in `text` (already after the date), or None."""
    flat = _flat(text)
    for m in _TIME.finditer(flat):
        before, hour, minute, after = m[1], m[2], m[3], m[4]
        half = before or after
        if not (half or minute or re.search(r"[:：時点點]", m.group())):
            continue  # a bare number (人數, 編號) is not a time
        hour = int(hour)
        minute = 30 if minute == "半" else int(minute or 0)
        half = (half or "").lower().replace(".", "")
        if half in ("下午", "晚上", "傍晚", "pm") and hour < 12:
            hour += 12
        elif half == "中午" and hour < 6:
            hour += 12
        elif half in ("上午", "早上", "凌晨", "am") and hour == 12:
            hour = 0
        if 0 <= hour <= 23 and 0 <= minute <= 59:
            return time(hour, minute)
    return None


def find_when(text, *, year=None):
    """(date or None, time or None) of a 時間 line or a title."""
    found, rest = find_date(text, year=year)
    if found is None:
        return None, None
    return found, find_time(rest)
