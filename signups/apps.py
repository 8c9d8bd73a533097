from django.apps import AppConfig


class SignupsConfig(AppConfig):
    name = "signups"
    verbose_name = "調查填報"

    def ready(self):
        from django.apps import apps

        from portal import access, fragments
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_minute

        from .home import home_block
        from .selectors import GRID_COUNTER

        fragments.changed_on_save(
            GRID_COUNTER,
            # not Offer: every change of a school's rows saves its Response too (offers_save, the
            # admin), and receivers on Offer would make each table save fetch and signal every
            # deleted row one by one
            *(self.get_model(name) for name in ("Survey", "Response", "StatusChange")),
            apps.get_model("portal", "School"),
            apps.get_model("portal", "District"),
        )

        register_nav("調查填報", "signups:list", visible=access.has_role, order=40)
        register_home_block(
            home_block, order=40, counters=(GRID_COUNTER,), vary=vary_by_roles_and_minute
        )
