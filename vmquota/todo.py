"""本週待辦 (portal/todo.py) from the VM room: a coordinator's school's open incidents and
suspended VMs, a convener's district's, and for bureau staff (and admins) the city's open
incidents. Observe-only incidents are records, not work: they are left out."""

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from portal import access
from portal.rocdate import format_short_datetime
from portal.todo import Todo

from .models import Incident, VirtualMachine, VmState

SHOWN = 5  # incidents listed one a line; the rest as one line to the board or district page


def todos(request):
    roles = access.roles_of(request.user)
    if not roles.has_any:
        return []
    if roles.is_staff:
        return _city()
    if not (roles.coordinator_school_ids or roles.convener_district_ids):
        return []
    return _schools(roles)


def _open_incidents():
    return Incident.objects.filter(
        ended_at__isnull=True, withdrawn_at__isnull=True, observe_only=False
    ).select_related("vm__school", "rule")


def _incident_todo(incident, *, with_school):
    where = f"{incident.vm.school.name}的" if with_school and incident.vm.school else ""
    return Todo(
        text=f"{where}虛擬機 {incident.vm.name} 超過資源限制",
        url=reverse("vmquota:incident", args=[incident.pk]),
        detail=f"{incident.rule}；{format_short_datetime(timezone.localtime(incident.fired_at))} 起"
        + ("（豁免中）" if incident.exempted else ""),
        label="事件",
        tone="muted" if incident.exempted else "bad",
        urgency=15,
    )


def _schools(roles):
    """The VMs of the coordinator's school and of the convener's district: both may open them
    (access.can_view_school), and the convener the district page too."""
    whose = Q(school_id__in=roles.coordinator_school_ids) | Q(
        school__district_id__in=roles.convener_district_ids
    )
    with_school = bool(roles.convener_district_ids) or len(roles.coordinator_school_ids) > 1
    incidents = list(
        _open_incidents()
        .filter(vm__in=VirtualMachine.objects.filter(whose))
        .order_by("-fired_at", "-id")[: SHOWN + 1]
    )
    found = [_incident_todo(i, with_school=with_school) for i in incidents[:SHOWN]]
    if len(incidents) > SHOWN:
        found.append(_more_line(roles))
    paused = VirtualMachine.objects.filter(whose, state=VmState.PAUSED).select_related("school")
    for vm in paused.order_by("name")[:SHOWN]:
        where = f"{vm.school.name}的" if with_school and vm.school else ""
        found.append(
            Todo(
                text=f"{where}虛擬機 {vm.name} 已被暫停",
                url=reverse("vmquota:vm", args=[vm.pk]),
                detail="教育局恢復執行前無法使用",
                label="已暫停",
                tone="bad",
                urgency=12,
            )
        )
    return found


def _more_line(roles):
    if roles.convener_district_ids:
        district_id = min(roles.convener_district_ids)
        return Todo(text="還有其他進行中的事件：見本分區的虛擬機事件",
                    url=reverse("vmquota:district", args=[district_id]), label="事件",
                    urgency=16)  # fmt: skip
    return Todo(text="還有其他進行中的事件", url=reverse("vmquota:index"), label="事件", urgency=16)


def _city():
    incidents = list(_open_incidents().order_by("-fired_at", "-id")[: SHOWN + 1])
    found = [_incident_todo(i, with_school=True) for i in incidents[:SHOWN]]
    if len(incidents) > SHOWN:
        found.append(
            Todo(text="還有其他進行中的虛擬機事件：見事件看板", url=reverse("vmquota:board"),
                 label="事件", tone="bad", urgency=16)
        )  # fmt: skip
    return found
