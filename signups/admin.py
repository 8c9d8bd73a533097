from django.contrib import admin
from import_export.admin import ExportMixin

from portal.spreadsheets import EXPORT_FORMATS

from .models import Blackout, Offer, Reminder, Response, StatusChange, Submission, Survey
from .resources import OfferResource


class BlackoutInline(admin.TabularInline):
    model = Blackout
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "school_year", "opens_at", "closes_at", "filed_by"]
    list_filter = ["filed_by", "is_draft"]
    inlines = [BlackoutInline]
    raw_id_fields = ["meeting", "report_item"]


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["survey", "school", "status", "submitted_at", "reopened_until"]
    list_filter = ["survey", "status", "school__district"]
    readonly_fields = ["status", "submitted_at"]
    inlines = [OfferInline]


@admin.register(Offer)
class OfferAdmin(ExportMixin, admin.ModelAdmin):
    """The consolidated rows, exportable through django-import-export's own admin pages."""

    export_formats = EXPORT_FORMATS  # text that looks like a formula stays text
    resource_classes = [OfferResource]
    list_display = ["course_name", "category", "response", "activity_starts_on", "capacity"]
    list_filter = ["response__survey", "response__status"]


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["response", "event", "old_status", "new_status", "by", "at"]
    list_filter = ["event"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["response", "number", "by", "at", "declined"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["survey", "school", "kind", "sent_at"]
