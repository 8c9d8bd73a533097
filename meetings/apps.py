from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "會議紀錄"

    def ready(self):
        from portal import fragments
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_day
        from portal.todo import register_todo

        from . import minutes_cache, todo
        from .blocks import minutes_block
        from .models import Meeting
        from .selectors import MEETINGS_COUNTER, SEARCH_COUNTER

        minutes_cache.connect()
        # a deleted meeting's entries go with it (a cascade, no rebuild): drop cached results
        fragments.changed_on_save(SEARCH_COUNTER, Meeting)
        fragments.changed_on_save(MEETINGS_COUNTER, Meeting)

        register_nav("會議紀錄", "meetings:list", order=10)
        register_todo(
            todo.todos, order=10, counters=(MEETINGS_COUNTER,), vary=vary_by_roles_and_day
        )
        register_home_block(
            minutes_block, order=10, counters=(MEETINGS_COUNTER,), vary=vary_by_roles_and_day
        )
