"""Spreadsheet export of the open items (django-import-export), headers in the minutes' words."""

from django.utils import timezone
from import_export import fields, resources

from portal.rocdate import format_short

from .models import TrackedItem


class TrackedItemResource(resources.ModelResource):
    """Rows are TrackedItems decorated by `selectors.decorate` (age in meetings, stale flag) with
    their updates prefetched; export only, nothing is imported from a spreadsheet."""

    case_no = fields.Field(attribute="case_no", column_name="案號")
    subject = fields.Field(attribute="subject", column_name="案由")
    division = fields.Field(column_name="承辦")
    opened_on = fields.Field(column_name="列管日期")
    age = fields.Field(attribute="age_meetings", column_name="已列管會議數")
    stale = fields.Field(column_name="久未更新")
    latest = fields.Field(column_name="最近辦理情形")
    latest_at = fields.Field(column_name="最近填報")

    class Meta:
        model = TrackedItem
        fields = export_order = [
            "case_no", "subject", "division", "opened_on", "age", "stale", "latest", "latest_at",
        ]  # fmt: skip

    def dehydrate_division(self, item):
        return item.division.name if item.division else "未指定"

    def dehydrate_opened_on(self, item):
        return format_short(item.opened_on)

    def dehydrate_stale(self, item):
        return "是" if getattr(item, "is_stale", False) else ""

    def _latest(self, item):
        updates = list(item.updates.all())  # prefetched: no query per row
        return updates[-1] if updates else None

    def dehydrate_latest(self, item):
        latest = self._latest(item)
        return latest.text if latest else ""

    def dehydrate_latest_at(self, item):
        latest = self._latest(item)
        if latest is None:
            return ""
        return format_short(timezone.localtime(latest.created_at).date())
