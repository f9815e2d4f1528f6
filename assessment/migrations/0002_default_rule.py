"""Ship the default rule of assessment.md, in force from 2000-01 (the first version)."""

import datetime

from django.db import migrations


def create_default(apps, schema_editor):
    RuleSet = apps.get_model("assessment", "RuleSet")
    if not RuleSet.objects.exists():
        RuleSet.objects.create(valid_from=datetime.date(2000, 1, 1), name="默认规则（assessment.md）")


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]
    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
