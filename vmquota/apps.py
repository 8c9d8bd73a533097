import logging

from django.apps import AppConfig

log = logging.getLogger("vmquota")


def home_block(request):
    from portal import access

    from .models import Incident, VirtualMachine
    from .selectors import latest_announcement

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
    ctx["incidents"] = list(
        Incident.objects.filter(
            vm__school_id__in=school_ids, ended_at__isnull=True, withdrawn_at__isnull=True,
            observe_only=False,
        ).select_related("vm", "rule")[:10]
    )  # fmt: skip
    if not ctx["has_vms"] and ctx["announcement"] is None:
        return None
    return "vmquota/home_block.html", ctx


class VmquotaConfig(AppConfig):
    name = "vmquota"
    verbose_name = "虛擬機房資源管理"

    def ready(self):
        from django.conf import settings

        from portal import fragments
        from portal.health import register_check
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_minute

        from .hypervisors.base import libvirt_available

        register_nav("虛擬機房", "vmquota:index", order=60)
        from .selectors import ROOM_COUNTER

        # the home block and the VM page's read-only sections (selectors.vm_page_body)
        fragments.changed_on_save(
            ROOM_COUNTER,
            *(
                self.get_model(n)
                for n in ("Incident", "Action", "VirtualMachine", "VmStateChange",
                          "PolicyVersion", "Exemption")
            ),
        )  # fmt: skip
        register_home_block(
            home_block, order=60, counters=(ROOM_COUNTER,), vary=vary_by_roles_and_minute
        )
        from .selectors import evaluation_health

        register_check("evaluation", evaluation_health)
        if settings.VMQUOTA_HYPERVISOR_ADAPTER == "auto" and not libvirt_available():
            log.warning(
                "vmquota：未安裝 libvirt-python，使用 dry-run 轉接器（不會真的暫停虛擬機）；"
                "安裝：pip install -e '.[libvirt]'（需要 libvirt-dev、pkg-config）"
            )
