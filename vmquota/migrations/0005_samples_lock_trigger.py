"""Every statement that inserts samples takes the samples lock (shared, until its transaction
ends) by itself: a statement-level trigger, so COPY, INSERT and the ORM are all covered, whoever
writes them. The evaluator takes the lock exclusively for an instant to learn an id below which
every sample is committed (vmquota.evaluation_runner.committed_horizon; UsageSample says why).
The trigger fires before the statement draws any id. SQLite: nothing (its writers are serialised).
"""

from django.db import migrations

SAMPLES_LOCK = 0x766D71  # vmquota.models.SAMPLES_LOCK (a test holds the two equal)

CREATE = f"""
CREATE FUNCTION vmquota_usagesample_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({SAMPLES_LOCK});
    RETURN NULL;
END
$$;
CREATE TRIGGER vmquota_usagesample_lock BEFORE INSERT ON vmquota_usagesample
    FOR EACH STATEMENT EXECUTE FUNCTION vmquota_usagesample_lock();
"""
DROP = """
DROP TRIGGER vmquota_usagesample_lock ON vmquota_usagesample;
DROP FUNCTION vmquota_usagesample_lock();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [("vmquota", "0004_sample_shard_index")]

    operations = [migrations.RunPython(create, drop)]
