import logging

from django.apps import AppConfig

log = logging.getLogger("vmquota")


class VmquotaConfig(AppConfig):
    name = "vmquota"
    verbose_name = "虛擬機房資源管理"

    def ready(self):
        from portal import audit

        _describe_audit_codes(audit)
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


def _describe_audit_codes(audit):
    from .models import VmState

    audit.describe(
        actions={
            "vmquota.policy_published": "發布配額政策",
            "vmquota.policy_drafted": "儲存配額政策草稿",
            "vmquota.exemption_granted": "核定豁免",
            "vmquota.token_issued": "發給收集器權杖",
            "vmquota.token_revoked": "撤銷收集器權杖",
            "vmquota.token_out_of_scope": "收集器回報了權杖範圍外的虛擬機",
            "vmquota.vm_assigned": "指定虛擬機所屬學校",
            "vmquota.suspended": "暫停虛擬機",
            "vmquota.resume_requested": "申請恢復虛擬機",
            "vmquota.resumed": "恢復虛擬機",
            "vmquota.evaluation_failed": "規則評估失敗",
        },
        details={
            "rules": "規則數", "rule": "規則", "observed": "虛擬機狀態", "incident": "事件編號",
            "action_id": "處置編號", "hypervisors": "虛擬化主機", "token_id": "權杖編號",
            "vms": "虛擬機", "shard": "分片", "vm": "虛擬機編號", "error": "錯誤",
            "cycle": "評估時間",
        },
        values={"observed": dict(VmState.choices)},
    )  # fmt: skip
