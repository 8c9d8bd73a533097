from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "列管事項"

    def ready(self):
        from portal import access
        from portal.navigation import register_home_block, register_nav

        from .views import home_block

        register_nav("列管事項", "tracking:list", visible=access.has_role, order=30)
        register_home_block(home_block, order=30)
