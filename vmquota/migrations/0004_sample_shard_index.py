"""The sample table's shard index, ((vm_id % 16), id): each evaluation shard reads only its own
new rows (`id > cursor AND vm_id % 16 = k`) instead of every new row of the table.

On PostgreSQL the index is built CONCURRENTLY, so ingest goes on while it is built (a few
minutes at 100 M samples); hence a non-atomic migration. Django's AddIndex is what the state
records, and what SQLite runs."""

from django.db import migrations, models
from django.db.models import F

INDEX = models.Index(F("vm_id") % 16, F("id"), name="vmquota_sample_shard_id")


def create(apps, schema_editor):
    model = apps.get_model("vmquota", "UsageSample")
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the expression's "%" is SQL, not a placeholder
        schema_editor.execute(INDEX.create_sql(model, schema_editor, concurrently=True), None)
    else:
        schema_editor.add_index(model, INDEX)


def drop(apps, schema_editor):
    model = apps.get_model("vmquota", "UsageSample")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX.remove_sql(model, schema_editor, concurrently=True), None)
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("vmquota", "0003_sample_vm_fk_without_own_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="usagesample", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
