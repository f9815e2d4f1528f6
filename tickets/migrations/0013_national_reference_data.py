"""National reference data with ``migrate``: appeal types, channels, the default time-limit rule and
the working calendar (see tickets/reference_data.py). Idempotent; ``load_ruzhou`` adds nothing twice."""

from django.db import migrations


def load(apps, schema_editor):
    from tickets.reference_data import reference_data_load

    reference_data_load(apps)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0012_light_share_of_limit")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
