"""The Ruzhou directory: loading is repeatable, the bulletin's units exist, renames and retired
categories keep history."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import ProtectedError
from django.urls import reverse

from tickets.exceptions import InvalidInput
from tickets.models import (
    AppealType,
    AssessmentGroup,
    CalendarDay,
    CalendarYear,
    Category,
    Channel,
    TimeLimitRule,
    Unit,
    UnitName,
    UpperPlatform,
)
from tickets.services.directory import directory_load_ruzhou, unit_name_on, unit_save

ROOT = Path(__file__).resolve().parents[2]
BULLETIN_PATHS = [
    ROOT / "tests" / "reports" / "data" / "ruzhou-12345-bulletin-2024-04.md",
    Path("/work/shared/seed/ruzhou-12345-bulletin-2024-04.md"),
]


def bulletin_tables() -> dict[str, list[str]]:
    """Unit names of the two assessment tables (附件1 乡镇街道, 附件2 市直单位), as printed."""
    path = next((p for p in BULLETIN_PATHS if p.exists()), None)
    assert path is not None, f"seed bulletin not found in {BULLETIN_PATHS}"
    text = path.read_text(encoding="utf-8")
    tables: dict[str, list[str]] = {}
    for key, title in (("township", "四月份乡镇街道考核表"), ("city", "四月份市直单位考核表")):
        section = text.split(f"## {title}", 1)[1]
        names = []
        for line in section.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("|") and len(cells) == 3 and re.fullmatch(r"\d+", cells[2]):
                names.append(cells[0])
            elif names and not line.startswith("|"):
                break
        tables[key] = names
    return tables


def directory_snapshot():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Unit, UnitName, Category, AppealType, Channel, UpperPlatform, TimeLimitRule)
    }


def test_loading_twice_changes_nothing(directory):
    # given: loaded once by the fixture
    before = directory_snapshot()
    # when
    created = directory_load_ruzhou()
    # then
    assert created == {"units": 0, "categories": 0}
    assert directory_snapshot() == before


def test_twenty_one_townships(directory):
    # when
    townships = Unit.objects.filter(group=AssessmentGroup.TOWNSHIP, active=True)
    # then
    assert townships.count() == 21
    assert {u.short_name for u in townships if not u.short_name.endswith(("街道", "镇", "乡"))} == set()


def test_the_bulletin_tables_are_what_we_parse():
    # when
    tables = bulletin_tables()
    # then: the seed's two tables, whole
    assert len(tables["township"]) == 21 and tables["township"][0] == "纸坊镇"
    assert len(tables["city"]) == 23 and tables["city"][-1] == "自然资源和规划局"


@pytest.mark.parametrize("group", ["township", "city"])
def test_every_unit_of_the_bulletin_exists_under_its_printed_name(directory, group):
    # given
    printed = bulletin_tables()[group]
    # when
    found = dict(Unit.objects.filter(short_name__in=printed).values_list("short_name", "group"))
    # then
    assert sorted(set(printed) - set(found)) == []
    assert set(found.values()) == {group}


def test_rename_keeps_the_old_name_for_past_months(directory):
    # given
    unit = Unit.objects.get(short_name="纸坊镇")
    # when: 纸坊镇 becomes 纸坊街道 from May 2024
    unit.name, unit.short_name = "纸坊街道办事处", "纸坊街道"
    unit_save(unit=unit, changed_fields=["name", "short_name"], effective=date(2024, 5, 1))
    # then
    assert unit_name_on(unit=unit, day=date(2024, 4, 30)) == ("纸坊镇人民政府", "纸坊镇")
    assert unit_name_on(unit=unit, day=date(2024, 5, 1)) == ("纸坊街道办事处", "纸坊街道")
    history = list(unit.names.order_by("valid_from").values_list("short_name", "valid_until"))
    assert history == [("纸坊镇", date(2024, 4, 30)), ("纸坊街道", None)]
    assert Unit.objects.get(pk=unit.pk).short_name == "纸坊街道"


def test_second_rename_on_the_same_day_corrects_the_new_name(directory):
    # given
    unit = Unit.objects.get(short_name="纸坊镇")
    unit.name, unit.short_name = "纸坊街道办", "纸坊街"
    unit_save(unit=unit, changed_fields=["name", "short_name"], effective=date(2024, 5, 1))
    # when: a typo fixed the same day
    unit.name, unit.short_name = "纸坊街道办事处", "纸坊街道"
    unit_save(unit=unit, changed_fields=["name", "short_name"], effective=date(2024, 5, 1))
    # then
    assert unit.names.count() == 2
    assert unit_name_on(unit=unit, day=date(2024, 6, 1)) == ("纸坊街道办事处", "纸坊街道")
    assert unit_name_on(unit=unit, day=date(2024, 4, 1)) == ("纸坊镇人民政府", "纸坊镇")


def test_editing_other_fields_does_not_touch_the_name_history(directory):
    # given
    unit = Unit.objects.get(short_name="纸坊镇")
    # when
    unit.order = 99
    unit_save(unit=unit, changed_fields=["order"], effective=date(2024, 5, 1))
    # then
    assert unit.names.count() == 1


def test_retiring_a_category_keeps_old_tickets_pointing_at_it(new_ticket, admin_user, client):
    # given
    category = Category.objects.get(code="0201")
    old = new_ticket(category=category)
    # when: the administrator retires it with the admin action
    client.force_login(admin_user)
    response = client.post(reverse("admin:tickets_category_changelist"),
                           {"action": "retire", "_selected_action": [category.pk]})
    assert response.status_code == 302
    # then
    category.refresh_from_db()
    assert category.active is False and category.retired_at is not None
    old.refresh_from_db()
    assert old.category_id == category.pk and old.category.full_name == category.full_name
    with pytest.raises(InvalidInput) as info:
        new_ticket(category=category)
    assert "category" in info.value.fields
    with pytest.raises(ProtectedError):
        category.delete()


def test_load_ruzhou_command_reports_what_it_added(directory):
    # given: a calendar from 2020 only (``migrate`` loads it from 2004)
    CalendarDay.objects.filter(date__year__lt=2020).delete()
    CalendarYear.objects.filter(year__lt=2020).delete()
    years, days = CalendarYear.objects.count(), CalendarDay.objects.count()
    out = io.StringIO()
    # when
    call_command("load_ruzhou", stdout=out)
    # then
    added_years = CalendarYear.objects.count() - years
    added_days = CalendarDay.objects.count() - days
    assert added_years > 0 and CalendarYear.objects.order_by("year").first().year == 2004
    assert out.getvalue().strip() == (
        f"目录已载入：新增单位0个，问题分类0个；日历新增{added_years}个年份、{added_days}个节假日/调休日。"
    )
    # when: run again
    out = io.StringIO()
    call_command("load_ruzhou", stdout=out)
    # then
    assert out.getvalue().strip() == "目录已载入：新增单位0个，问题分类0个；日历新增0个年份、0个节假日/调休日。"
