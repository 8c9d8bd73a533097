from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "列管事項"

    def ready(self):
        from portal import audit

        _describe_audit_codes(audit)
        from django.apps import apps

        from meetings import hooks
        from portal import access, fragments
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_day
        from portal.todo import register_todo, vary_by_person_and_day

        from . import selectors, services, todo
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
        # a clerk's items lacking 辦理情形 and the news of followed items: the reader's own
        fragments.changed_on_save(todo.TODO_COUNTER, self.get_model("Subscription"))
        register_todo(
            todo.todos, order=30, counters=(LIST_COUNTER, todo.TODO_COUNTER),
            vary=vary_by_person_and_day,
        )  # fmt: skip
        register_home_block(
            home_block, order=30, counters=(LIST_COUNTER,), vary=vary_by_roles_and_day
        )


def _describe_audit_codes(audit):
    from .transitions import CHOICES

    audit.describe(
        actions={
            "tracking.decided": "列管事項決議",
            "tracking.status_updated": "填寫辦理情形",
            "tracking.meeting_created": "建立會議（列管事項）",
            "tracking.meeting_saved": "列管事項隨會議更新",
            "tracking.exported": "匯出列管事項",
        },
        details={
            "meeting": "會議編號", "decision": "決議", "held_on": "會議日期",
            "opened": "新列管", "carried": "續列管", "update": "辦理情形編號", "count": "筆數",
        },
        values={"decision": dict(CHOICES)},
    )  # fmt: skip
