"""A BRIN index on the sample timestamps (PostgreSQL only): tiny, and enough for the purge's
`ts < cutoff` on an append-mostly table. SQLite has no BRIN; it does without."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS vmquota_sample_ts_brin ON vmquota_usagesample USING brin (ts)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS vmquota_sample_ts_brin")


class Migration(migrations.Migration):
    dependencies = [("vmquota", "0001_inventory_policy_samples_incidents")]
    operations = [migrations.RunPython(create, drop)]
