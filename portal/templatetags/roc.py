"""Template filters for ROC dates: {{ meeting.held_on|roc_date }} → 民國 108 年 9 月 10 日（星期二）."""

from django import template

from portal import rocdate

register = template.Library()


@register.filter
def roc_date(value):
    return rocdate.format_date(value)


@register.filter
def roc_date_plain(value):
    """108 年 9 月 10 日（星期二）, as the minutes' header writes it."""
    return rocdate.format_date(value, era=False)


@register.filter
def roc_date_noweekday(value):
    return rocdate.format_date(value, weekday=False)


@register.filter
def roc_short(value):
    return rocdate.format_short(value)


@register.filter
def roc_time(value):
    return rocdate.format_time(value)


@register.filter
def roc_datetime(value):
    return rocdate.format_datetime(value)


@register.filter
def roc_datetime_short(value):
    """108/9/23 14:30 in Asia/Taipei, for tables."""
    from django.utils import timezone

    if not value:
        return ""
    return rocdate.format_short_datetime(timezone.localtime(value))
