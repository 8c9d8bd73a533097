from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "會議紀錄"

    def ready(self):
        from portal.navigation import register_home_block, register_nav

        from . import minutes_cache
        from .blocks import minutes_block

        minutes_cache.connect()

        register_nav("會議紀錄", "meetings:list", order=10)
        register_home_block(minutes_block, order=10)
