from django.apps import AppConfig


class VmquotaConfig(AppConfig):
    name = "vmquota"
    verbose_name = "虛擬機房資源管理"
