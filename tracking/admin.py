from django.contrib import admin
from import_export.admin import ExportActionMixin

from portal.spreadsheets import EXPORT_FORMATS

from . import selectors, services
from .models import Change, Reminder, Review, StatusUpdate, Subscription, TrackedItem
from .resources import TrackedItemResource


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    can_delete = False
    fields = [
        "meeting",
        "previous_status",
        "current_status",
        "resolution",
        "decision",
        "decided_at",
    ]
    readonly_fields = fields  # the minutes' record is changed through the services only


class StatusUpdateInline(admin.TabularInline):
    model = StatusUpdate
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "text", "review"]
    readonly_fields = fields


class ChangeInline(admin.TabularInline):
    model = Change
    extra = 0
    can_delete = False
    fields = ["at", "actor", "field", "old", "new", "reason", "meeting"]
    readonly_fields = fields


@admin.register(TrackedItem)
class TrackedItemAdmin(ExportActionMixin, admin.ModelAdmin):
    export_formats = EXPORT_FORMATS  # text that looks like a formula stays text
    resource_classes = [TrackedItemResource]
    list_display = ["case_no", "short_subject", "division", "state", "opened_on", "last_update_at"]
    list_filter = ["state", "division"]
    search_fields = ["case_no", "subject"]
    list_select_related = ["division"]
    readonly_fields = [
        "case_no", "state", "origin_meeting", "origin_motion", "opened_on", "merged_into",
        "last_update_at", "last_reviewed_on", "closed_on",
    ]  # fmt: skip
    fields = ["case_no", "subject", "division", "follows_up", *readonly_fields[1:]]
    autocomplete_fields = ["follows_up"]
    inlines = [ReviewInline, StatusUpdateInline, ChangeInline]

    @admin.display(description="案由")
    def short_subject(self, item):
        return item.subject[:40]

    def has_delete_permission(self, request, obj=None):
        return False  # case numbers live forever; close or merge an item instead

    def get_data_for_export(self, request, queryset, **kwargs):
        # the resource reads each item's age and stale flag and its prefetched updates
        items = selectors.decorate(
            list(queryset.prefetch_related("updates")), selectors.MeetingCalendar.load()
        )
        return super().get_data_for_export(request, items, **kwargs)

    def save_model(self, request, obj, form, change):
        # 承辦 and 案由 changes go through the services so that each leaves a Change row
        if change and "division" in form.changed_data:
            services.item_assign(
                item=obj, division=obj.division, user=request.user, reason="管理後台"
            )
        if change and "subject" in form.changed_data:
            services.item_rename(
                item=obj, subject=obj.subject, user=request.user, reason="管理後台"
            )
        super().save_model(request, obj, form, change)


@admin.register(StatusUpdate)
class StatusUpdateAdmin(admin.ModelAdmin):
    list_display = ["item", "author", "created_at"]
    list_select_related = ["item", "author"]
    readonly_fields = ["item", "review", "author", "text", "created_at"]

    def has_add_permission(self, request):
        return False  # posted from the item page, where the division check runs


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["item", "user", "created_at"]
    list_select_related = ["item", "user"]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["meeting", "division", "sent_at"]
    readonly_fields = ["meeting", "division", "sent_at", "case_numbers", "recipients"]
