from django.contrib import admin

from .models import (
    Attachment,
    Correction,
    Meeting,
    MeetingSeries,
    MinutesNotice,
    Motion,
    ReportItem,
)


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(admin.ModelAdmin):
    list_display = ["name", "organiser"]


class MotionInline(admin.StackedInline):
    model = Motion
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "held_on", "status", "announced", "published_at"]
    list_filter = ["status", "announced", "series"]
    search_fields = ["title", "place", "chair"]
    date_hierarchy = "held_on"
    inlines = [MotionInline]
    readonly_fields = ["source_text", "import_warnings", "published_at"]


@admin.register(ReportItem)
class ReportItemAdmin(admin.ModelAdmin):
    list_display = ["meeting", "division", "parent", "position", "__str__"]
    list_filter = ["division"]
    raw_id_fields = ["meeting", "parent"]


@admin.register(Correction)
class CorrectionAdmin(admin.ModelAdmin):
    list_display = ["meeting", "target", "corrected_by", "corrected_at"]
    readonly_fields = [f.name for f in Correction._meta.fields]


@admin.register(MinutesNotice)
class MinutesNoticeAdmin(admin.ModelAdmin):
    list_display = ["meeting", "email", "sent_at"]
    readonly_fields = [f.name for f in MinutesNotice._meta.fields]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Read-mostly: files are added in the browser (services.attachment_add checks their
    content and records corrections on published minutes)."""

    list_display = ["title", "meeting", "report_item", "motion", "linked", "content_type", "size"]
    list_select_related = ["meeting"]
    raw_id_fields = ["meeting", "report_item", "motion"]
    readonly_fields = ["file", "original_name", "content_type", "size", "linked_type", "linked_id",
                       "added_by", "added_at"]  # fmt: skip


# --- before the meeting ------------------------------------------------------------------------

from .convening_models import Announcement, AnnouncementDelivery, Convening  # noqa: E402


class AnnouncementInline(admin.TabularInline):
    model = Announcement
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "sequence", "changes", "reason", "sent_by", "sent_at"]


@admin.register(Convening)
class ConveningAdmin(admin.ModelAdmin):
    list_display = ["meeting", "state", "proposals_due", "noticed_at", "minutes_opened_at",
                    "cancelled_at"]  # fmt: skip
    list_filter = ["state"]
    readonly_fields = ["noticed_at", "minutes_opened_at", "cancelled_at"]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["meeting", "kind", "sequence", "sent_by", "sent_at"]
    list_filter = ["kind"]
    readonly_fields = ["meeting", "kind", "sequence", "changes", "reason", "sent_by", "sent_at"]


@admin.register(AnnouncementDelivery)
class AnnouncementDeliveryAdmin(admin.ModelAdmin):
    list_display = ["announcement", "email", "sent_at"]
    search_fields = ["email"]


from .proposal_models import Proposal, ProposalTransition  # noqa: E402


class ProposalTransitionInline(admin.TabularInline):
    model = ProposalTransition
    extra = 0
    can_delete = False
    readonly_fields = ["old_state", "new_state", "reason", "by", "at"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["subject", "meeting", "district", "state", "position"]
    list_filter = ["state", "district"]
    search_fields = ["subject", "explanation"]
    readonly_fields = ["state", "merged_into", "carried_from", "motion"]
    inlines = [ProposalTransitionInline]


from .attendance_models import AttendanceReply, SignIn, TimetableNote  # noqa: E402


@admin.register(AttendanceReply)
class AttendanceReplyAdmin(admin.ModelAdmin):
    """Replies are history (the latest counts): read here, answered on the reply page."""

    list_display = ["meeting", "school", "answer", "attendee", "answered_by", "answered_at"]
    list_filter = ["answer", "school__district"]
    search_fields = ["school__name", "attendee"]
    readonly_fields = ["meeting", "school", "answer", "attendee", "note", "answered_by",
                       "answered_at"]  # fmt: skip


@admin.register(SignIn)
class SignInAdmin(admin.ModelAdmin):
    list_display = ["meeting", "school", "name", "method", "signed_at"]
    list_filter = ["method", "school__district"]
    search_fields = ["school__name", "name"]
    readonly_fields = ["signed_by", "signed_at"]


@admin.register(TimetableNote)
class TimetableNoteAdmin(admin.ModelAdmin):
    list_display = ["meeting", "school", "teacher", "classes", "collected_at"]
    list_filter = ["school__district"]
    search_fields = ["school__name", "teacher"]
    readonly_fields = ["requested_by", "requested_at", "collected_by", "collected_at"]
