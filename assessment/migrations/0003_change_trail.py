"""The change trail of scores and bulletins (ChangeRecord), reversals of adjustments instead of
deletions, and the unit's order frozen with each score. ChangeRecord and Adjustment refuse UPDATE and
DELETE in PostgreSQL itself (the trigger function of tickets 0005); on SQLite the ORM guard of
AppendOnlyModel applies."""

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY_TABLES = ("assessment_changerecord", "assessment_adjustment")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_refuse_audit_change() RETURNS trigger AS $body$
BEGIN
    RAISE EXCEPTION '审计表 %% 只能追加：拒绝 %%', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$body$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)  # the same function as tickets 0005 (idempotent)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION hotline_refuse_audit_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def freeze_unit_order(apps, schema_editor):
    UnitScore = apps.get_model("assessment", "UnitScore")
    Unit = apps.get_model("tickets", "Unit")
    for unit_id, order in Unit.objects.values_list("pk", "order"):
        UnitScore.objects.filter(unit_id=unit_id).update(unit_order=order)


class Migration(migrations.Migration):

    dependencies = [
        ('assessment', '0002_default_rule'),
        ('tickets', '0005_audit_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='adjustment',
            name='reverses',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversal', to='assessment.adjustment', verbose_name='冲销的记录'),
        ),
        migrations.AddField(
            model_name='unitscore',
            name='unit_order',
            field=models.IntegerField(default=0, verbose_name='单位排序（计算时）'),
        ),
        migrations.CreateModel(
            name='ChangeRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(db_index=True, help_text='受影响的月份（规则版本：生效月份）。', verbose_name='月份')),
                ('kind', models.CharField(choices=[('rule_create', '新建规则版本'), ('rule_update', '修改规则版本'), ('stationing', '派驻情况变更'), ('adjustment', '录入加减分'), ('adjustment_reverse', '冲销加减分'), ('compute', '计算考核'), ('bulletin_build', '生成简报'), ('bulletin_edit', '编辑简报'), ('bulletin_override', '调整较好/较差单位'), ('bulletin_schedule', '设定发布日'), ('bulletin_hold', '暂缓发布'), ('bulletin_unhold', '取消暂缓'), ('bulletin_publish', '发布简报'), ('bulletin_unpublish', '撤回发布')], max_length=30, verbose_name='变更')),
                ('target', models.CharField(blank=True, max_length=200, verbose_name='对象')),
                ('reason', models.CharField(blank=True, max_length=500, verbose_name='理由')),
                ('before', models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True, verbose_name='变更前')),
                ('after', models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True, verbose_name='变更后')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人')),
            ],
            options={
                'verbose_name': '考核与简报变更记录',
                'verbose_name_plural': '考核与简报变更记录',
                'ordering': ['-at', '-id'],
            },
        ),
        migrations.RunPython(freeze_unit_order, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
