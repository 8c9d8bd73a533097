"""The vmquota block of the home page (registered in apps.ready)."""

from portal import access

from .models import Incident, VirtualMachine
from .selectors import latest_announcement


def home_block(request):
    """The home page's block: open incidents and suspended VMs for staff; a coordinator's own
    schools' (or a convener's district's) open incidents (or nothing when they have no VM and there is no announcement)."""
    user = request.user
    ctx = {"announcement": latest_announcement(), "is_staff": access.is_staff(user)}
    if ctx["is_staff"]:
        ctx["open_count"] = Incident.objects.filter(
            ended_at__isnull=True, withdrawn_at__isnull=True
        ).count()
        ctx["suspended_count"] = VirtualMachine.objects.filter(state="paused").count()
        return "vmquota/home_block.html", ctx
    roles = access.roles_of(user)
    # a coordinator's school, and a convener's district (whose VMs they may open)
    school_ids = set(roles.coordinator_school_ids) | set(
        access.visible_schools(user).filter(district_id__in=roles.convener_district_ids)
        .values_list("pk", flat=True)
    ) if roles.convener_district_ids else roles.coordinator_school_ids  # fmt: skip
    if not school_ids and ctx["announcement"] is None:
        return None
    ctx["has_vms"] = VirtualMachine.objects.filter(school_id__in=school_ids).exists()
    ctx["whose"] = "分區各校" if roles.convener_district_ids else "您學校"
    ctx["incidents"] = list(
        Incident.objects.filter(
            vm__school_id__in=school_ids, ended_at__isnull=True, withdrawn_at__isnull=True,
            observe_only=False,
        ).select_related("vm", "rule")[:10]
    )  # fmt: skip
    if not ctx["has_vms"] and ctx["announcement"] is None:
        return None
    return "vmquota/home_block.html", ctx
