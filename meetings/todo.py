"""本週待辦 (portal/todo.py): the next meeting the reader may open."""

from django.utils import timezone

from portal.rocdate import format_date
from portal.todo import Todo

from .selectors import visible_meetings


def todos(request):
    today = timezone.localdate()
    meeting = (
        visible_meetings(request.user).filter(held_on__gte=today).order_by("held_on", "id").first()
    )
    if meeting is None:
        return []
    days = (meeting.held_on - today).days
    when = "今天" if days == 0 else f"還有 {days} 天"
    return [
        Todo(
            text=f"下次會議：{meeting.title}",
            url=meeting.get_absolute_url(),
            detail=f"{format_date(meeting.held_on)}（{when}）"
            + ("；紀錄草稿尚未發布" if not meeting.is_published else ""),
            label="會議",
            tone="info",
            urgency=10 if days <= 7 else 60,
        )
    ]
