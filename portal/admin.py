from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from import_export.admin import ExportMixin

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
from .organisation import ImportRefused, schools_import
from .resources import SchoolResource
from .spreadsheets import EXPORT_FORMATS


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


class SchoolListUpload(forms.Form):
    file = forms.FileField(label="學校名冊（.xlsx 或 .csv）")
    dry_run = forms.BooleanField(label="只試算，不儲存", required=False)


@admin.register(School)
class SchoolAdmin(ExportMixin, admin.ModelAdmin):
    """The export has the import's columns: download, edit in Excel, upload again."""

    list_display = ["name", "code", "level", "district", "email_domain"]
    list_filter = ["district", "level"]
    search_fields = ["name", "code"]
    resource_classes = [SchoolResource]
    export_formats = EXPORT_FORMATS  # text that looks like a formula stays text
    # not change_list_template: import-export would extend it from its own and loop
    import_export_change_list_template = "admin/portal/school/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_school_list)
        return [path("import-list/", view, name="portal_school_import_list"), *super().get_urls()]

    def import_school_list(self, request):
        """The same all-or-nothing import as the bureau's page and `manage.py import_schools`."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            return redirect("admin:portal_school_changelist")
        form = SchoolListUpload(request.POST or None, request.FILES or None)
        errors, result = [], None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = schools_import(
                    name=upload.name, data=upload.read(), actor=request.user, request=request,
                    dry_run=form.cleaned_data["dry_run"],
                )  # fmt: skip
            except ImportRefused as exc:
                errors = exc.errors
            else:
                if not result.dry_run:
                    self.message_user(request, result.summary(), messages.SUCCESS)
                    return redirect("admin:portal_school_changelist")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": "匯入學校名冊", "form": form, "errors": errors, "result": result}  # fmt: skip
        return TemplateResponse(request, "admin/portal/school/import_list.html", context)


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
    list_display = ["email", "role", "school", "district", "division", "invited_by",
                    "created_at", "accepted_at", "revoked_at"]  # fmt: skip
    list_filter = ["role"]
    search_fields = ["email"]
    readonly_fields = ["token", "accepted_by", "accepted_at", "revoked_by", "revoked_at",
                       "sent_count", "last_sent_at"]  # fmt: skip


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
