import logging

from django.apps import AppConfig

log = logging.getLogger("vmquota")


class VmquotaConfig(AppConfig):
    name = "vmquota"
    verbose_name = "虛擬機房資源管理"

    def ready(self):
        from django.conf import settings

        from portal import fragments
        from portal.health import register_check
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_minute
        from portal.todo import register_todo

        from . import todo
        from .home import home_block
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
        register_todo(todo.todos, order=60, counters=(ROOM_COUNTER,), vary=vary_by_roles_and_minute)
        from .selectors import evaluation_health

        register_check("evaluation", evaluation_health)
        from portal.checklist import register_step

        from .selectors import collector_token_issued

        register_step(
            "collector_token", "發出虛擬機收集器權杖", collector_token_issued,
            url_name="vmquota:tokens", order=50,
            hint="為各主機的收集器發出權杖，使用量才會送進入口網站。",
        )  # fmt: skip
        if settings.VMQUOTA_HYPERVISOR_ADAPTER == "auto" and not libvirt_available():
            log.warning(
                "vmquota：未安裝 libvirt-python，使用 dry-run 轉接器（不會真的暫停虛擬機）；"
                "安裝：pip install -e '.[libvirt]'（需要 libvirt-dev、pkg-config）"
            )
