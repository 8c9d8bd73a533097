"""UsageSample.vm: drop the foreign key's own index on vm_id. The unique (vm_id, ts) index
leads with the same column and serves every lookup by vm_id (the page, the late-sample rewind,
what-if, cascading deletes), so the extra index only cost a B-tree insert per sample (667 MB
at 100 M samples).

Django's AlterField would drop and re-add the foreign-key constraint on PostgreSQL (re-checking
every row under lock) and rebuild the whole table on SQLite; only the index has to go. So the
state changes as AlterField says, and the database drops the index alone – on PostgreSQL with
DROP INDEX CONCURRENTLY, which does not block ingest (hence a non-atomic migration)."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "vmquota_usagesample"
INDEX = "vmquota_usagesample_vm_id_a0c6bdd7"  # the name 0001 gave it


def _vm_id_indexes(schema_editor):
    """Names of the plain indexes on (vm_id) alone – whatever a database named them."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return [
        name
        for name, c in constraints.items()
        if c["index"] and c["columns"] == ["vm_id"] and not c["unique"] and not c["primary_key"]
    ]


def drop(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for name in _vm_id_indexes(schema_editor):
        schema_editor.execute(
            f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(name)}"
        )


def create(apps, schema_editor):
    if _vm_id_indexes(schema_editor):
        return
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX{concurrently} IF NOT EXISTS {schema_editor.quote_name(INDEX)} "
        f"ON {schema_editor.quote_name(TABLE)} (vm_id)"
    )


class Migration(migrations.Migration):
    atomic = False  # DROP/CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("vmquota", "0002_sample_ts_brin")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="usagesample",
                    name="vm",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="samples",
                        to="vmquota.virtualmachine",
                    ),
                )
            ],
            database_operations=[migrations.RunPython(drop, create)],
        )
    ]
