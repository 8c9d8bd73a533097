"""ROC (民國) dates and times, written and read the way the network's documents write them.

ROC year = Gregorian year − 1911. A school year (學年度) N runs from 1 August of ROC year N to
31 July of ROC year N + 1, which is how a bare `12/25~1/3` inside a survey is placed in time.
Django's zh-hant formats show the Gregorian year, so every date the portal shows goes through here.
"""

import re
import unicodedata
from datetime import date, datetime, time

from django.utils import timezone

ROC_OFFSET = 1911
WEEKDAYS = "一二三四五六日"
ACCEPTED_FORMS = "「108 年 9 月 23 日」、「108/9/23」或「2019-09-23」"


class ROCDateError(ValueError):
    """A date or time the portal cannot read; the message (in Chinese) names the accepted forms."""


# --- writing -----------------------------------------------------------------------------


def roc_year(d):
    return d.year - ROC_OFFSET


def format_date(d, *, era=True, weekday=True):
    """民國 108 年 9 月 10 日（星期二）"""
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = timezone.localtime(d).date() if timezone.is_aware(d) else d.date()
    text = f"{roc_year(d)} 年 {d.month} 月 {d.day} 日"
    if era:
        text = "民國 " + text
    if weekday:
        text += f"（星期{WEEKDAYS[d.weekday()]}）"
    return text


def format_short(d):
    """108/9/23"""
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = timezone.localtime(d).date() if timezone.is_aware(d) else d.date()
    return f"{roc_year(d)}/{d.month}/{d.day}"


def format_short_datetime(local):
    """108/9/23 14:30, for tables: a datetime already in the reader's time zone."""
    return f"{format_short(local.date())} {local:%H:%M}"


def format_time(t):
    """上午 10 時, 下午 12 時 30 分 (noon belongs to the afternoon, as in the seed's 下午 12:30)."""
    if t is None:
        return ""
    if isinstance(t, datetime):
        t = timezone.localtime(t).time() if timezone.is_aware(t) else t.time()
    half = "上午" if t.hour < 12 else "下午"
    hour = t.hour % 12 or 12
    text = f"{half} {hour} 時"
    if t.minute:
        text += f" {t.minute} 分"
    return text


def format_datetime(dt, *, era=True, weekday=True):
    """民國 108 年 9 月 10 日（星期二）上午 10 時, in Asia/Taipei."""
    if dt is None:
        return ""
    local = timezone.localtime(dt) if timezone.is_aware(dt) else dt
    return format_date(local.date(), era=era, weekday=weekday) + format_time(local.time())


def format_month_day_range(start, end):
    """The survey table's compact form: 2/3~4 (same month), 12/25~1/3, or 2/3 for one day."""
    if start == end:
        return f"{start.month}/{start.day}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.month}/{start.day}~{end.day}"
    return f"{start.month}/{start.day}~{end.month}/{end.day}"


# --- reading -----------------------------------------------------------------------------

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"[零〇○一二兩三四五六七八九十百千]+")


def chinese_to_int(text):
    """一百零八 → 108, 十二 → 12, 二十三 → 23, 一〇八 → 108."""
    if all(ch in _DIGITS for ch in text):  # digit by digit: 一〇八
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            raise ROCDateError(f"無法辨識數字「{text}」")
    return total + current


def normalise(text):
    """Full-width digits and punctuation to half-width, Chinese numerals to digits, no spaces."""
    text = unicodedata.normalize("NFKC", str(text)).strip()
    text = text.replace("中華民國", "").replace("民國", "")
    text = _CN_NUMBER.sub(lambda m: str(chinese_to_int(m.group())), text)
    text = re.sub(r"[（(]\s*(星期|週|周)?[一二三四五六日天1-7]\s*[)）]", "", text)
    return re.sub(r"\s+", "", text)


_FULL = re.compile(r"^(\d{1,4})(?:年|/|-|\.)(\d{1,2})(?:月|/|-|\.)(\d{1,2})日?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})(?:月|/)(\d{1,2})日?$")


def _make_date(year, month, day, original):
    if year > ROC_OFFSET:  # a four-digit Gregorian year, e.g. from <input type=date>
        gregorian = year
    elif year >= 1:
        gregorian = year + ROC_OFFSET
    else:
        raise ROCDateError(f"「{original}」的年份不正確，請輸入 {ACCEPTED_FORMS}。")
    try:
        return date(gregorian, month, day)
    except ValueError:
        raise ROCDateError(f"「{original}」不是存在的日期，請檢查月份與日期。") from None


def school_year_month_day(month, day, school_year, original=""):
    """Place a month/day inside ROC school year `school_year` (Aug–Jul)."""
    year = school_year if month >= 8 else school_year + 1
    return _make_date(year, month, day, original or f"{month}/{day}")


def school_year_of(d):
    """The ROC school year (學年度) a date belongs to."""
    return roc_year(d) if d.month >= 8 else roc_year(d) - 1


def parse_date(text, *, school_year=None):
    """Read 108 年 9 月 23 日, 108/9/23, 一百零八年九月二十三日, 2019-09-23; a bare 9/23 or
    9月23日 only when a school year is given."""
    original = str(text).strip()
    if not original:
        raise ROCDateError(f"請輸入日期，例如 {ACCEPTED_FORMS}。")
    try:
        flat = normalise(original)
    except ROCDateError:
        flat = ""
    m = _FULL.match(flat)
    if m:
        return _make_date(int(m[1]), int(m[2]), int(m[3]), original)
    m = _MONTH_DAY.match(flat)
    if m and school_year is not None:
        return school_year_month_day(int(m[1]), int(m[2]), school_year, original)
    raise ROCDateError(f"無法辨識日期「{original}」，請輸入 {ACCEPTED_FORMS}。")


_RANGE_SPLIT = re.compile(r"\s*(?:~|～|〜|至|到|–|—)\s*")


def parse_date_range(text, *, school_year=None):
    """Read a range: 109年1月21日至2月10日, 12/25~1/3 (inside a school year), 2/3~4 (days of one
    month). The end inherits the year and month the start gives; it is never before the start."""
    original = str(text).strip()
    parts = [p for p in _RANGE_SPLIT.split(normalise(original)) if p]
    if len(parts) == 1:
        d = parse_date(parts[0], school_year=school_year)
        return d, d
    if len(parts) != 2:
        raise ROCDateError(
            f"無法辨識日期區間「{original}」，請輸入如「12/25~1/3」或「109年1月21日至2月10日」。"
        )
    start = parse_date(parts[0], school_year=school_year)
    tail = parts[1]
    if re.fullmatch(r"\d{1,2}日?", tail):
        end = _make_date(roc_year(start), start.month, int(tail.rstrip("日")), original)
    elif _MONTH_DAY.match(tail):
        m = _MONTH_DAY.match(tail)
        month, day = int(m[1]), int(m[2])
        # 12/25~1/3 crosses the new year. Decide the year before making the date: 12/25~2/29 ends
        # in a leap year's February, which the start's year may not have.
        crosses = (month, day) < (start.month, start.day)
        end = _make_date(roc_year(start) + crosses, month, day, original)
    else:
        end = parse_date(tail, school_year=school_year)
    if end < start:
        raise ROCDateError(f"日期區間「{original}」的結束日早於開始日。")
    return start, end


_TIME = re.compile(r"^(上午|下午|中午|晚上)?(\d{1,2})(?:[:：時點](\d{1,2})?分?)?$")


def parse_time(text):
    """Read 上午 10 時, 下午12:30, 14:00, 上午十時三十分."""
    original = str(text).strip()
    flat = normalise(original).replace("半", "30")
    m = _TIME.match(flat)
    if not m:
        raise ROCDateError(f"無法辨識時間「{original}」，請輸入如「上午 10 時」或「14:30」。")
    half, hour, minute = m[1], int(m[2]), int(m[3] or 0)
    if half in ("下午", "晚上") and hour < 12:
        hour += 12
    if half == "上午" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ROCDateError(f"「{original}」不是正確的時間。")
    return time(hour, minute)
