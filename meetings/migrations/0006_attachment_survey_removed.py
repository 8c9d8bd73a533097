from django.db import migrations, models


class Migration(migrations.Migration):
    """Attachment.survey goes (0005 copied its links to Attachment.linked); the check
    constraints now speak of the link."""

    dependencies = [
        ("meetings", "0005_attachment_survey_links_copied"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="attachment",
            name="attachment_file_or_survey_not_both",
        ),
        migrations.RemoveField(
            model_name="attachment",
            name="survey",
        ),
        migrations.AddConstraint(
            model_name="attachment",
            constraint=models.CheckConstraint(
                condition=models.Q(("linked_id__isnull", True), ("file", ""), _connector="OR"),
                name="attachment_file_or_link_not_both",
            ),
        ),
        migrations.AddConstraint(
            model_name="attachment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("linked_id__isnull", True), ("linked_type__isnull", True)),
                    models.Q(("linked_id__isnull", False), ("linked_type__isnull", False)),
                    _connector="OR",
                ),
                name="attachment_link_type_and_id_together",
            ),
        ),
    ]
