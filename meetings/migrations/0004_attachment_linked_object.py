import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """An attachment links to a row of any app built on meetings (Attachment.linked, a kind
    registered through meetings.hooks) instead of naming signups' Survey: 0005 copies the
    survey links over, 0006 drops Attachment.survey. Three migrations, each its own
    transaction: PostgreSQL refuses to alter a table whose updated rows still have deferred
    foreign-key checks pending."""

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("meetings", "0003_attachment_files_survey_links_announced"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="linked_id",
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name="連結對象編號"),
        ),
        migrations.AddField(
            model_name="attachment",
            name="linked_type",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
                verbose_name="連結種類",
            ),
        ),
        migrations.AddIndex(
            model_name="attachment",
            index=models.Index(fields=["linked_type", "linked_id"], name="attachment_linked"),
        ),
    ]
