"""``import_units`` and ``import_stationing``: the directory side of the imports."""

from __future__ import annotations

from ..models import AssessmentGroup, Unit
from ..services.directory import unit_save
from .base import Importer

GROUPS = {label: value for value, label in AssessmentGroup.choices}
YES_NO = {"是": True, "否": False}
STATIONING = {"已完成": True, "未完成": False}


class UnitImporter(Importer):
    """Key: 单位名称 (full name). A new name creates a unit; a known one is updated where it differs."""

    kind = "units"
    label = "承办单位"
    columns = {"单位名称": True, "简称": True, "考核分组": True, "排序": False, "需派驻": False}

    def prepare(self, table) -> list[dict]:
        by_name = {u.name: u for u in Unit.objects.all()}
        by_short = {u.short_name: u for u in by_name.values()}
        names, shorts, records = {}, {}, []
        for row, cells in self.rows(table):
            before = len(self.errors)
            name = self.text(row, cells, "单位名称", required=True, max_length=100)
            short = self.text(row, cells, "简称", required=True, max_length=50)
            group = self.choice(row, cells, "考核分组", GROUPS, required=True)
            order = self.integer(row, cells, "排序", default=None, maximum=2_147_483_647)
            stationing = self.choice(row, cells, "需派驻", YES_NO, default=False)
            if name:
                if name in names:
                    self.error(row, "单位名称", f"单位名称“{name}”与第{names[name]}行重复。")
                names.setdefault(name, row)
            if short:
                if short in shorts:
                    self.error(row, "简称", f"简称“{short}”与第{shorts[short]}行重复。")
                shorts.setdefault(short, row)
                owner = by_short.get(short)
                if owner and owner.name != name:
                    self.error(row, "简称", f"简称“{short}”已被单位“{owner.name}”使用。")
            if len(self.errors) == before:
                records.append({"row": row, "unit": by_name.get(name), "name": name, "short_name": short,
                                "group": group, "order": order, "needs_stationing": stationing})
        return records

    def write(self, records: list[dict]) -> dict:
        created = updated = 0
        for done, record in enumerate(records, start=1):
            unit = record["unit"]
            values = {k: record[k] for k in ("name", "short_name", "group", "needs_stationing")}
            if record["order"] is not None:
                values["order"] = record["order"]
            if unit is None:
                unit_save(unit=Unit(**values))
                created += 1
            else:
                changes = [k for k, v in values.items() if getattr(unit, k) != v]
                if changes:
                    for key in changes:
                        setattr(unit, key, values[key])
                    unit_save(unit=unit, changed_fields=changes)
                    updated += 1
            self.progress(done, len(records), "写入")
        return {"created": created, "updated": updated, "unchanged": len(records) - created - updated}


class StationingImporter(Importer):
    """Key: (unit, month). Each row goes through ``assessment.services.stationing_set``."""

    kind = "stationing"
    label = "派驻情况"
    columns = {"单位名称": True, "月份": True, "派驻情况": True}

    def prepare(self, table) -> list[dict]:
        units: dict[str, Unit] = {}
        for unit in Unit.objects.all():
            units.setdefault(unit.name, unit)
            units.setdefault(unit.short_name, unit)
        seen: dict[tuple[int, object], int] = {}
        records = []
        for row, cells in self.rows(table):
            before = len(self.errors)
            name = self.text(row, cells, "单位名称", required=True, max_length=100)
            month = self.month(row, cells, "月份")
            complete = self.choice(row, cells, "派驻情况", STATIONING, required=True)
            unit = units.get(name) if name else None
            if name and unit is None:
                self.error(row, "单位名称", f"未知的单位“{name}”。")
            if unit and month:
                key = (unit.pk, month)
                if key in seen:
                    self.error(row, "单位名称", f"{unit.short_name}{month:%Y-%m}的派驻情况与第{seen[key]}行重复。")
                seen.setdefault(key, row)
            if len(self.errors) == before:
                records.append({"row": row, "unit": unit, "month": month, "complete": complete})
        return records

    def write(self, records: list[dict]) -> dict:
        from assessment.services import stationing_set

        for done, record in enumerate(records, start=1):
            stationing_set(unit=record["unit"], month=record["month"], complete=record["complete"],
                           actor=self.actor)
            self.progress(done, len(records), "写入")
        return {"saved": len(records)}
