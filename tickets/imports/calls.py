"""``import_calls``: call records. With no id column in the file, the key is a hash of
(time, caller number digest, agent number), kept in ``Call.external_key``."""

from __future__ import annotations

import hashlib

from ..exceptions import InvalidInput
from ..models import Call, CallKind, Ticket
from ..privacy import phone_digest, phone_normalise
from .base import Importer
from .bulk import insert_rows

UPDATABLE = ["duration_seconds", "ticket_id", "kind"]


def call_key(*, called_at, digest: str, agent_no: str) -> str:
    raw = f"{called_at.isoformat()}|{digest}|{agent_no}"
    return "h:" + hashlib.sha256(raw.encode()).hexdigest()


class CallImporter(Importer):
    kind = "calls"
    label = "来电记录"
    columns = {"来电时间": True, "主叫号码": True, "坐席工号": False, "通话时长": False, "工单编号": False}

    def prepare(self, table) -> list[dict]:
        parsed, numbers = [], set()
        for row, cells in self.rows(table):
            before = len(self.errors)
            called_at = self.time(row, cells, "来电时间", required=True)
            phone_text = self.text(row, cells, "主叫号码", required=True, max_length=40)
            agent = self.text(row, cells, "坐席工号", max_length=20)
            duration = self.integer(row, cells, "通话时长", default=None)
            number = self.text(row, cells, "工单编号", max_length=40)
            phone = ""
            if phone_text:
                try:
                    phone = phone_normalise(phone_text)
                except InvalidInput as exc:
                    self.error(row, "主叫号码", exc.message)
            if number:
                numbers.add(number)
            parsed.append((row, before, called_at, phone, agent, duration, number))
        tickets: dict[str, int] = {}
        ordered = sorted(numbers)
        for start in range(0, len(ordered), 5000):
            qs = Ticket.objects.filter(number__in=ordered[start:start + 5000]).values_list("number", "id")
            tickets.update(dict(qs))
        records, keys = [], {}
        for row, before, called_at, phone, agent, duration, number in parsed:
            if number and number not in tickets:
                self.error(row, "工单编号", f"工单{number}不存在（请先导入工单）。")
            if called_at is None or not phone:
                continue
            digest = phone_digest(phone)
            key = call_key(called_at=called_at, digest=digest, agent_no=agent)
            if key in keys:
                self.error(row, "来电时间", f"与第{keys[key]}行是同一通来电（时间、主叫号码、坐席工号相同）。")
                continue
            keys[key] = row
            if self.errors.since(row, before):
                continue
            records.append({
                "called_at": called_at, "caller_phone": phone, "caller_phone_digest": digest, "agent_no": agent,
                "duration_seconds": duration, "ticket_id": tickets.get(number) if number else None,
                "kind": CallKind.NEW if number else CallKind.OTHER, "external_key": key, "row": row,
            })
        return records

    def volume_days(self, records: list[dict]) -> set:
        return {r["called_at"].astimezone(self.tz).date() for r in records}

    def write(self, records: list[dict]) -> dict:
        existing: dict[str, dict] = {}
        keys = [r["external_key"] for r in records]
        for start in range(0, len(keys), 5000):
            for row in Call.objects.filter(external_key__in=keys[start:start + 5000]).values(
                    "id", "external_key", *UPDATABLE):
                existing[row["external_key"]] = row
        from django.utils import timezone

        now = timezone.now()
        new, changed = [], []
        for record in records:
            record.pop("row")
            old = existing.get(record["external_key"])
            if old is None:
                new.append({**record, "operator_id": None, "note": "", "created_at": now})
            elif any(old[f] != record[f] for f in UPDATABLE):
                changed.append(Call(pk=old["id"], **{f: record[f] for f in UPDATABLE}))
        self.progress(0, len(records), "写入")
        insert_rows(Call, new)
        if changed:
            Call.objects.bulk_update(changed, UPDATABLE, batch_size=500)
        self.progress(len(records), len(records), "写入")
        return {"created": len(new), "updated": len(changed), "unchanged": len(records) - len(new) - len(changed)}
