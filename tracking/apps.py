from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "列管事項"

    def ready(self):
        from django.apps import apps

        from portal import access, fragments
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_day

        from .selectors import LIST_COUNTER
        from .views import home_block

        fragments.changed_on_save(
            LIST_COUNTER,
            *(self.get_model(name) for name in ("TrackedItem", "Review", "StatusUpdate", "Change")),
            apps.get_model("portal", "Division"),
            apps.get_model("meetings", "Meeting"),
        )

        register_nav("列管事項", "tracking:list", visible=access.has_role, order=30)
        register_home_block(
            home_block, order=30, counters=(LIST_COUNTER,), vary=vary_by_roles_and_day
        )
