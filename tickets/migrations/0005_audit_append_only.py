"""The audit tables refuse UPDATE and DELETE in the database itself (PostgreSQL triggers), not only
in the ORM: a script, a shell or a stolen application account cannot rewrite who did what."""

from django.db import migrations

AUDIT_TABLES = ("tickets_ticketevent", "tickets_callerdataaccess")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_refuse_audit_change() RETURNS trigger AS $body$
BEGIN
    RAISE EXCEPTION '审计表 %% 只能追加：拒绝 %%', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$body$ LANGUAGE plpgsql;
"""


# (``%%``: the statement goes through the driver's parameter formatting, which turns it into ``%``.)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (the embedded default): the ORM guard of AppendOnlyModel applies
    schema_editor.execute(CREATE_FUNCTION)
    for table in AUDIT_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION hotline_refuse_audit_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in AUDIT_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS hotline_refuse_audit_change()")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_month_indexes")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
