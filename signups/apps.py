from django.apps import AppConfig


class SignupsConfig(AppConfig):
    name = "signups"
    verbose_name = "調查填報"

    def ready(self):
        from portal import access
        from portal.navigation import register_home_block, register_nav

        from .home import home_block

        register_nav("調查填報", "signups:list", visible=access.has_role, order=40)
        register_home_block(home_block, order=40)
