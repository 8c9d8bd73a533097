from django.db import migrations, models


def survey_links_to_linked(apps, schema_editor):
    """Each survey link (Attachment.survey) becomes Attachment.linked. The survey's content type
    is named by its app label and model, as its rows were: meetings imports nothing of signups."""
    Attachment = apps.get_model("meetings", "Attachment")
    ContentType = apps.get_model("contenttypes", "ContentType")
    links = Attachment.objects.filter(survey__isnull=False)
    if links.exists():
        survey_type, _ = ContentType.objects.get_or_create(app_label="signups", model="survey")
        links.update(linked_type=survey_type, linked_id=models.F("survey_id"))


def linked_to_survey_links(apps, schema_editor):
    Attachment = apps.get_model("meetings", "Attachment")
    Attachment.objects.filter(
        linked_type__app_label="signups", linked_type__model="survey"
    ).update(survey_id=models.F("linked_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0004_attachment_linked_object"),
    ]

    operations = [
        migrations.RunPython(survey_links_to_linked, linked_to_survey_links),
    ]
