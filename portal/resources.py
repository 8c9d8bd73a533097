"""The school list exported in the shape the import reads (portal/organisation.py), so the
bureau can download it, edit it in Excel and upload it again."""

from import_export import fields, resources

from .models import School


class SchoolResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name="學校代碼")
    name = fields.Field(attribute="name", column_name="校名")
    level = fields.Field(column_name="學制")
    district = fields.Field(attribute="district__name", column_name="分區")
    email_domain = fields.Field(attribute="email_domain", column_name="電子郵件網域")
    convener = fields.Field(column_name="召集學校")

    class Meta:
        model = School
        fields = ("code", "name", "level", "district", "email_domain", "convener")
        export_order = fields

    def dehydrate_level(self, school):
        return school.get_level_display()

    def dehydrate_convener(self, school):
        return "是" if school.district.convener_school_id == school.pk else ""
