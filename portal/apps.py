from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "入口網站"

    def ready(self):
        from . import access, fragments, security, signals  # noqa: F401
        from .navigation import register_home_block, register_nav, vary_by_roles_and_day
        from .views import PEOPLE_COUNTER, roles_block

        register_nav("首頁", "home", order=0)
        register_nav("人員與邀請", "people", visible=access.is_staff, order=90)
        register_nav("稽核紀錄", "audit_log", visible=access.is_staff, order=95)
        # "my roles" (and, for staff, how many people wait for one): names of schools, districts
        # and divisions, and the count of people without a role (a login saves the user too)
        fragments.changed_on_save(
            PEOPLE_COUNTER, *(self.get_model(n) for n in ("User", "Membership", "School",
                                                          "District", "Division"))
        )  # fmt: skip
        from .checklist import checklist_block

        # not cached: a handful of exists() for bureau staff only, until the basics are in place
        register_home_block(checklist_block, order=1)
        register_nav("學校名冊", "schools_import", visible=access.is_staff, order=88)
        register_home_block(
            roles_block, order=90, counters=(PEOPLE_COUNTER,), vary=vary_by_roles_and_day
        )
