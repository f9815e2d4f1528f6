"""National reference data with ``migrate``: appeal types, channels, the default time-limit rule and
the working calendar (see tickets/reference_data.py). Idempotent; ``load_ruzhou`` adds nothing twice."""

from django.db import migrations


def load(apps, schema_editor):
    from tickets.reference_data import reference_data_load

    reference_data_load(apps)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_ticket_idempotency_key")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
