"""Writes to the directory: units keep their name history across renames."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from ..models import Unit, UnitName


@transaction.atomic
def unit_save(*, unit: Unit, changed_fields=(), effective=None) -> Unit:
    """Create or update a unit. A rename closes the current name record and opens a new one, so
    months before ``effective`` keep printing the old name."""
    effective = effective or timezone.localdate()
    creating = unit.pk is None
    unit.full_clean()
    unit.save()
    renamed = {"name", "short_name"} & set(changed_fields or ())
    if creating or not unit.names.exists():
        UnitName.objects.create(unit=unit, name=unit.name, short_name=unit.short_name,
                                valid_from=date(1900, 1, 1) if creating else effective)
    elif renamed:
        current = unit.names.filter(valid_until__isnull=True).order_by("-valid_from").first()
        if current and (current.name, current.short_name) != (unit.name, unit.short_name):
            if current.valid_from >= effective:
                current.name, current.short_name = unit.name, unit.short_name
                current.save(update_fields=["name", "short_name"])
            else:
                current.valid_until = effective - timedelta(days=1)
                current.save(update_fields=["valid_until"])
                UnitName.objects.create(unit=unit, name=unit.name, short_name=unit.short_name, valid_from=effective)
    return unit


def unit_name_on(*, unit: Unit, day) -> tuple[str, str]:
    """(full name, short name) a unit had on ``day``."""
    record = unit.names.filter(valid_from__lte=day).order_by("-valid_from").first()
    if record is None:
        return unit.name, unit.short_name
    return record.name, record.short_name


@transaction.atomic
def directory_load_ruzhou() -> dict[str, int]:
    """Load (or complete) the Ruzhou directory; existing rows are kept, so it is safe to rerun. The
    national reference data normally comes with ``migrate``; it is completed here too (a flushed
    test database), never duplicated."""
    from .. import directory_data as data
    from ..models import AssessmentGroup, Category, UpperPlatform
    from ..reference_data import reference_data_load

    reference_data_load(calendar=False)
    created = {"units": 0, "categories": 0}
    for order, (short, full) in enumerate(data.TOWNSHIPS, start=1):
        if not Unit.objects.filter(short_name=short).exists():
            unit_save(unit=Unit(name=full, short_name=short, group=AssessmentGroup.TOWNSHIP, order=order))
            created["units"] += 1
    for order, (short, full, stationing) in enumerate(data.CITY_UNITS, start=1):
        if not Unit.objects.filter(short_name=short).exists():
            unit_save(unit=Unit(name=full, short_name=short, group=AssessmentGroup.CITY, order=order,
                                needs_stationing=stationing))
            created["units"] += 1
    for order, (code, name) in enumerate(data.UPPER_PLATFORMS, start=1):
        UpperPlatform.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    for order, (code, name, keywords, children) in enumerate(data.CATEGORIES, start=1):
        parent, made = Category.objects.get_or_create(
            code=code, defaults={"name": name, "order": order, "keywords": keywords})
        created["categories"] += made
        for child_order, (child_code, child_name, child_keywords) in enumerate(children, start=1):
            _, made = Category.objects.get_or_create(
                code=child_code,
                defaults={"name": child_name, "parent": parent, "order": child_order, "keywords": child_keywords},
            )
            created["categories"] += made
    return created
