from django.apps import AppConfig


class SignupsConfig(AppConfig):
    name = "signups"
    verbose_name = "調查填報"

    def ready(self):
        from django.apps import apps

        from meetings import hooks
        from portal import access, fragments
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_minute
        from portal.todo import register_todo

        from . import todo
        from .home import home_block
        from .selectors import GRID_COUNTER

        Survey = self.get_model("Survey")
        # minutes link to surveys (the item that announced one); a survey's title and address
        # show in the minutes
        hooks.register_link_kind(
            hooks.LinkKind(
                name="survey",
                model=Survey,
                label="調查表",
                note="線上調查表",
                choices=lambda: Survey.objects.order_by("-opens_at", "-id"),
                help_text="調查填報裡的調查表；資訊組長點連結即可填報。",
            )
        )
        hooks.register_minutes_models(Survey)

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
        # days left change at midnight and a survey closes at its minute: vary by the minute
        register_todo(todo.todos, order=40, counters=(GRID_COUNTER,), vary=vary_by_roles_and_minute)
        register_home_block(
            home_block, order=40, counters=(GRID_COUNTER,), vary=vary_by_roles_and_minute
        )
