"""National reference data comes with ``migrate`` (tickets/reference_data.py) and is never
duplicated by ``load_ruzhou``; an error that lists allowed values never lists none."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from tickets.imports import ImportFailed, import_file
from tickets.models import AppealType, CalendarYear, Channel, TimeLimitRule
from tickets.reference_data import APPEAL_TYPES, CHANNELS
from tickets.services.directory import directory_load_ruzhou

from .import_helpers import TICKET_HEADERS, csv_bytes, errors_of, ticket_row

pytestmark = pytest.mark.django_db
migration = importlib.import_module("tickets.migrations.0013_national_reference_data")


def reference_snapshot():
    return (list(AppealType.objects.order_by("code").values_list("code", "name", "handling_days")),
            list(Channel.objects.order_by("code").values_list("code", "name")),
            TimeLimitRule.objects.count())


def test_the_migration_loads_the_national_data_and_load_ruzhou_adds_none_of_it_again(directory):
    # given: a database without reference data
    AppealType.objects.all().delete()
    Channel.objects.all().delete()
    TimeLimitRule.objects.all().delete()
    # when: the data migration runs (as ``migrate`` does), then load_ruzhou
    migration.load(apps, None)
    after_migrate = reference_snapshot()
    directory_load_ruzhou()
    migration.load(apps, None)
    # then
    assert after_migrate == reference_snapshot()
    assert sorted((c, n, d) for c, n, d in APPEAL_TYPES) == after_migrate[0]
    assert [n for _, n in CHANNELS] == list(Channel.objects.order_by("order").values_list("name", flat=True))
    assert after_migrate[2] == 1
    assert CalendarYear.objects.filter(year=2024).exists()


def test_an_administrators_edit_is_kept(directory):
    # given
    AppealType.objects.filter(code="consult").update(handling_days=4)
    # when
    migration.load(apps, None)
    # then
    assert AppealType.objects.get(code="consult").handling_days == 4


def test_with_nothing_configured_the_error_says_so_instead_of_listing_nothing(directory):
    # given: no appeal types and no channels at all
    AppealType.objects.all().delete()
    Channel.objects.all().delete()
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, [ticket_row()]))
    # then
    reasons = {column: reason for _, column, reason in errors_of(caught.value)}
    assert reasons["诉求类型"].startswith("“问题处理”不是有效值：尚未配置任何诉求类型，请先执行 python manage.py migrate")
    assert reasons["来源渠道"].startswith("“电话”不是本级登记的来源渠道：尚未配置任何来源渠道，请先")
    assert not any(reason.endswith("应为：。") for reason in reasons.values())
