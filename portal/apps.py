from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "入口網站"

    def ready(self):
        from . import access, security, signals  # noqa: F401
        from .navigation import register_home_block, register_nav
        from .views import roles_block

        register_nav("首頁", "home", order=0)
        register_nav("人員與邀請", "people", visible=access.is_staff, order=90)
        register_nav("稽核紀錄", "audit_log", visible=access.is_staff, order=95)
        register_home_block(roles_block, order=90)
