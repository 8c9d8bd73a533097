"""本週待辦 (portal/todo.py) from tracked items: a bureau clerk's items lacking a 現辦理情形, the
items someone follows that got a new 辦理情形 this week, a convener's district's open items."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from portal import access
from portal.models import School
from portal.rocdate import format_short
from portal.todo import Todo

from . import selectors
from .models import StatusUpdate, TrackedItem

TODO_COUNTER = "tracking:todo"  # subscriptions; the items' own changes move LIST_COUNTER
NEWS_DAYS = 7  # "this week": a 辦理情形 posted in the last seven days is news
SHOWN = 5  # per kind; the rest as one line to the list


def todos(request):
    user = request.user
    if not access.has_role(user):
        return []
    roles = access.roles_of(user)
    found = []
    if roles.is_bureau and roles.bureau_division_ids:
        found += _lacking_status(user, roles.bureau_division_ids)
    found += _followed_news(user)
    if roles.convener_district_ids:
        found += _district_items(user, roles.convener_district_ids)
    return found


def _open_items(user):
    return TrackedItem.objects.visible_to(user).filter(shown_state=TrackedItem.State.OPEN)


def _lacking_status(user, division_ids):
    items = list(
        _open_items(user)
        .filter(selectors.needs_status_q(), division_id__in=division_ids)
        .select_related("division")
        .order_by("opened_on", "case_no")[: SHOWN + 1]
    )
    found = [
        Todo(
            text=f"填報 {item.case_no} 的現辦理情形",
            url=item.get_absolute_url(),
            detail=f"{item.division.name}：{item.subject[:40]}",
            label="待填報",
            tone="warn",
            urgency=20,
        )
        for item in items[:SHOWN]
    ]
    if len(items) > SHOWN:
        found.append(
            Todo(text="本組還有其他待填報的列管事項", url="/tracking/", label="待填報", urgency=21)
        )
    return found


def _followed_news(user):
    since = timezone.now() - timedelta(days=NEWS_DAYS)
    updates = list(
        StatusUpdate.objects.visible_to(user)
        .filter(item__subscriptions__user=user, created_at__gte=since)
        .exclude(author=user)
        .select_related("item", "author")
        .order_by("-created_at")[: SHOWN * 3]
    )
    latest = {}
    for update in updates:  # newest first: one line per item
        latest.setdefault(update.item_id, update)
    return [
        Todo(
            text=f"您訂閱的 {u.item.case_no} 有新的辦理情形",
            url=f"{u.item.get_absolute_url()}#update-{u.pk}",
            detail=f"{format_short(timezone.localtime(u.created_at).date())}"
            f" {u.author.display_name if u.author else ''}：{u.text[:40]}",
            label="新辦理情形",
            tone="info",
            urgency=40,
        )
        for u in list(latest.values())[:SHOWN]
    ]


def _district_items(user, district_ids):
    """Open items a school of the convener's district proposed (the motion's 提案單位)."""
    names = set()
    for school, district in School.objects.filter(district_id__in=district_ids).values_list(
        "name", "district__name"
    ):
        names |= {school, district}
    if not names:
        return []
    proposed = Q()
    for name in names:
        proposed |= Q(origin_motion__proposer__contains=name)
    items = list(
        _open_items(user)
        .filter(proposed)
        .select_related("origin_motion")
        .order_by("opened_on", "case_no")[:SHOWN]
    )
    return [
        Todo(
            text=f"本分區提案的 {item.case_no} 仍在列管",
            url=item.get_absolute_url(),
            detail=f"{item.origin_motion.proposer}：{item.subject[:40]}",
            label="本分區",
            tone="muted",
            urgency=45,
        )
        for item in items
    ]
