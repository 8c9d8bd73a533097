from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "會議紀錄"

    def ready(self):
        from portal import audit

        _describe_audit_codes(audit)
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


def _describe_audit_codes(audit):
    from .attendance_models import AttendanceReply
    from .convening_models import Announcement
    from .models import Meeting
    from .proposal_models import Proposal
    from .services import HEADER_FIELDS

    audit.describe(
        actions={
            "meetings.imported": "匯入會議紀錄",
            "meetings.created": "建立會議紀錄",
            "meetings.updated": "更正會議資料",
            "meetings.published": "發布會議紀錄",
            "meetings.attendance_set": "設定出席學校",
            "meetings.attachment_added": "新增附件",
            "meetings.attachment_removed": "移除附件",
            "meetings.planned": "排定會議",
            "meetings.cancelled": "取消會議",
            "meetings.proposal_moved": "提案狀態變更",
            "meetings.minutes_opened": "議程轉為會議紀錄草稿",
            "meetings.attendance_replied": "回覆出席",
            "meetings.signed_in": "簽到",
            "meetings.sign_ins_ticked": "登記簽到",
            "meetings.timetable_noted": "提出課表需求",
            "meetings.timetable_collected": "收齊課表",
            **{f"meetings.announced_{kind}": f"寄發{label}"
               for kind, label in Announcement.Kind.choices},
        },
        details={
            "meeting_id": "會議編號", "motions": "決議案", "warnings": "警告",
            "attachment_id": "附件編號", "proposal_id": "提案編號", "announcement_id": "通知編號",
            "school_id": "學校編號", "answer": "回覆", "added": "新簽到的學校",
            "removed": "取消簽到的學校", "note_id": "課表需求編號",
        },
        values={
            "old": {**dict(Meeting.Status.choices), **dict(Proposal.State.choices)},
            "new": {**dict(Meeting.Status.choices), **dict(Proposal.State.choices)},
            "fields": HEADER_FIELDS,
            "answer": dict(AttendanceReply.Answer.choices),
        },
    )  # fmt: skip
