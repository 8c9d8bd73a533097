from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "列管事項"

    def ready(self):
        from django.apps import apps

        from meetings import hooks
        from portal import access, fragments
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_day

        from . import selectors, services
        from .selectors import LIST_COUNTER
        from .views import home_block

        # what a meeting's minutes carry of tracked items: the two tables, read on import and
        # shown in 陸 and 柒; a meeting saved opens items for its motions and carries open ones
        hooks.register_import_step(services.minutes_imported)
        hooks.register_meeting_saved(services.meeting_saved)
        hooks.register_minutes_tables(selectors.minutes_tables)
        hooks.register_minutes_models(self.get_model("TrackedItem"), self.get_model("Review"))

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
