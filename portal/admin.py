from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    AuditEvent,
    District,
    Division,
    Invitation,
    Membership,
    School,
    User,
    UserSession,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["school", "district"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (
        ("入口網站", {"fields": ("full_name", "notify_on_minutes")}),
    )
    list_display = ["username", "full_name", "email", "is_active", "last_login"]
    search_fields = ["username", "full_name", "email"]
    inlines = [MembershipInline]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "convener_school"]
    search_fields = ["name"]
    autocomplete_fields = ["convener_school"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "district", "email_domain"]
    list_filter = ["district"]
    search_fields = ["name", "code"]


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "email"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "school", "district", "division"]
    list_filter = ["role", "district"]
    search_fields = ["user__username", "user__full_name", "school__name"]
    autocomplete_fields = ["user", "school", "district"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "role", "school", "invited_by", "created_at", "accepted_at"]
    readonly_fields = ["token", "accepted_by", "accepted_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only for everyone using the application."""

    list_display = ["at", "actor_label", "action", "target", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target", "action"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    """Who is logged in, until when; deleting a row logs that browser out at once (a lost phone,
    a person who left). The session's contents are never shown."""

    list_display = ["user", "expire_date"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__full_name", "user__email"]
    fields = ["user", "expire_date"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
