"""Filters of the vmquota pages: durations and VM states in the users' words."""

from django import template

from vmquota.models import VmState

register = template.Library()


@register.filter
def duration_zh(value):
    """timedelta → 「5 分鐘」「1 小時 30 分鐘」「45 秒」 (never 0:05:00)."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} 秒"
    days, rest = divmod(seconds // 60, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} 天" if days else "", f"{hours} 小時" if hours else "",
             f"{minutes} 分鐘" if minutes else ""]  # fmt: skip
    return " ".join(p for p in parts if p)


@register.filter
def vm_state_zh(value):
    """A state code (running, paused, …) → its Chinese label; blank stays blank."""
    if not value:
        return ""
    try:
        return VmState(value).label
    except ValueError:
        return VmState.UNKNOWN.label
