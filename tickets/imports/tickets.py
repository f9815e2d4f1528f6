"""``import_tickets``: tickets in any state, with the events their state implies.

Same rules as ``ticket_create`` (required fields, second-level categories, townships only from
乡镇街道, phone normalising and digest, 协调办理 closed at registration) and the same deadline
functions, but validated for the whole file first and written in bulk in one transaction.
The key is 工单编号: an existing ticket is updated (one ``imported`` event listing the changes),
an unchanged one is left alone, so importing a file twice changes nothing the second time. A row
that moves an existing ticket's status takes the steps of ``ALLOWED_TRANSITIONS`` (one event each,
marked as imported) or is refused with a row error; an older file never moves a ticket back or
reopens a closed one (``lifecycle_steps``).
"""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from ..exceptions import InvalidInput
from ..models import (
    AppealType,
    AssessmentGroup,
    CallbackResult,
    Category,
    Channel,
    EventType,
    HandlingMode,
    Source,
    Status,
    Ticket,
    TicketEvent,
    TicketSequence,
    TimeLimitRule,
    Unit,
    UpperPlatform,
)
from ..privacy import phone_digest, phone_normalise
from ..services.common import ALLOWED_TRANSITIONS
from ..services.deadlines import deadlines_for_dispatch, dispatch_deadline_for
from ..workcalendar import MemoCalendar, get_calendar
from .base import Importer
from .bulk import insert_rows
from .errors import invalid_choice

COLUMNS = {
    "工单编号": True, "登记时间": True, "来源": True, "来源渠道": True, "上级工单编号": False, "办理方式": False,
    "诉求类型": True, "问题分类": True, "诉求内容": True, "来电人": False, "联系电话": False, "事发地址": False,
    "所属乡镇": False, "承办单位": False, "派单时间": False, "签收时间": False, "签收时限": False,
    "办结时间": False, "办理时限": False, "退单次数": False, "延期次数": False, "回访结果": False, "是否解决": False,
    "答复内容": False,
}
SOURCES = {label: value for value, label in Source.choices}
MODES = {label: value for value, label in HandlingMode.choices}
CALLBACKS = {label: value for value, label in CallbackResult.choices}
YES_NO = {"是": True, "否": False}
CATEGORY_SPLIT = re.compile(r"\s*(?:—+|-|/|－|／)\s*")

# Fields an import sets from a row; an existing ticket is updated only where these differ.
ROW_FIELDS = [
    "source", "channel_id", "platform_id", "upstream_number", "handling_mode", "appeal_type_id", "category_id",
    "content", "caller_name", "caller_phone", "caller_phone_digest", "address", "township_id", "unit_id",
    "status", "registered_at", "dispatch_deadline", "dispatched_at", "sign_deadline", "signed_at",
    "handle_deadline", "replied_at", "closed_at", "deadline_warning", "return_count", "extension_count",
    "callback_result", "callback_resolved", "callback_at",
]
# Caller data never goes into event data (it is append-only and not encrypted).
CALLER_FIELDS = frozenset({"caller_name", "caller_phone", "caller_phone_digest"})
CALLER_REDACTED = "[来电人信息不记入事件]"
_FIELDS = {f.attname: f for f in Ticket._meta.concrete_fields}
_MAX = {f.attname: f.max_length for f in Ticket._meta.concrete_fields if getattr(f, "max_length", None)}


def category_split(text: str) -> tuple[str, str] | None:
    parts = [p for p in CATEGORY_SPLIT.split(text.strip(), maxsplit=1) if p]
    return (parts[0], parts[1]) if len(parts) == 2 else None


class TicketImporter(Importer):
    kind = "tickets"
    label = "工单"
    columns = COLUMNS

    def load_directory(self) -> None:
        self.appeal_types = {a.name: a for a in AppealType.objects.all()}
        self.channels = {c.name: c.pk for c in Channel.objects.all()}
        self.platforms = {p.name: p.pk for p in UpperPlatform.objects.all()}
        self.units: dict[str, Unit] = {}
        for unit in Unit.objects.all():
            self.units.setdefault(unit.name, unit)
            self.units.setdefault(unit.short_name, unit)
        self.categories: dict[tuple[str, str], int] = {}
        self.top_categories: dict[str, int] = {}
        for cat in Category.objects.select_related("parent"):
            if cat.parent_id is None:
                self.top_categories[cat.name] = cat.pk
            elif cat.parent.parent_id is None:
                self.categories[(cat.parent.name, cat.name)] = cat.pk
        self.rules = list(TimeLimitRule.objects.order_by("-valid_from"))
        self.calendar = MemoCalendar(get_calendar())
        # What the deadline functions read of a ticket, per appeal type (imported rows are not urgent
        # and carry no upstream deadline).
        self.probes = {a.pk: Ticket(appeal_type=a, urgent=False, upstream_deadline=None)
                       for a in self.appeal_types.values()}

    # -- validation -------------------------------------------------------------------------
    def prepare(self, table) -> list[dict]:
        self.load_directory()
        records: list[dict] = []
        first_row: dict[str, int] = {}
        upstream_rows: dict[tuple[str, str], int] = {}
        for row, cells in self.rows(table):
            before = len(self.errors)
            record = self.parse_row(row, cells)
            number = record["fields"]["number"]
            if number:
                if number in first_row:
                    self.error(row, "工单编号", f"工单编号{number}与第{first_row[number]}行重复。")
                else:
                    first_row[number] = row
            upstream = record["fields"]["upstream_number"]
            if upstream and record["platform_name"]:
                key = (record["platform_name"], upstream)
                if key in upstream_rows:
                    self.error(row, "上级工单编号", f"上级工单编号{upstream}与第{upstream_rows[key]}行重复。")
                else:
                    upstream_rows[key] = row
            if len(self.errors) == before:
                records.append(record)
        return records

    def parse_row(self, row: int, cells: dict) -> dict:
        t = self.text
        number = t(row, cells, "工单编号", required=True, max_length=_MAX["number"])
        registered_at = self.time(row, cells, "登记时间", required=True)
        source = self.choice(row, cells, "来源", SOURCES, required=True)
        channel_name = t(row, cells, "来源渠道", required=True, max_length=_MAX["upstream_number"])
        upstream_number = t(row, cells, "上级工单编号", max_length=_MAX["upstream_number"])
        before = len(self.errors)
        mode = self.choice(row, cells, "办理方式", MODES)
        mode_invalid = len(self.errors) > before
        appeal = self.choice(row, cells, "诉求类型", self.appeal_types, required=True)
        category_text = t(row, cells, "问题分类", required=True, max_length=110)
        content = t(row, cells, "诉求内容", required=True, max_length=_MAX.get("content") or 5000)
        caller_name = t(row, cells, "来电人", max_length=_MAX["caller_name"])
        phone_text = t(row, cells, "联系电话", max_length=40)
        address = t(row, cells, "事发地址", max_length=_MAX["address"])
        township_name = t(row, cells, "所属乡镇", max_length=100)
        unit_name = t(row, cells, "承办单位", max_length=100)
        reply_text = t(row, cells, "答复内容", max_length=_MAX.get("reply_text") or 5000)
        dispatched_at = self.time(row, cells, "派单时间")
        signed_at = self.time(row, cells, "签收时间")
        sign_deadline = self.time(row, cells, "签收时限")
        closed_at = self.time(row, cells, "办结时间")
        handle_deadline = self.time(row, cells, "办理时限")
        return_count = self.integer(row, cells, "退单次数", maximum=32767)
        extension_count = self.integer(row, cells, "延期次数", maximum=32767)
        callback = self.choice(row, cells, "回访结果", CALLBACKS, default="")
        resolved = self.choice(row, cells, "是否解决", YES_NO)

        channel_id = platform_name = None
        if source == Source.LOCAL and channel_name:
            channel_id = self.channels.get(channel_name)
            if channel_id is None:
                self.error(row, "来源渠道", invalid_choice(channel_name, self.channels, noun="来源渠道",
                                                         kind="本级登记的来源渠道"))
            if not mode and not mode_invalid:
                self.error(row, "办理方式", "本级登记的工单必须填写办理方式（协调办理或交办处理）。")
        elif source == Source.UPPER:
            platform_name = channel_name or None
            mode = HandlingMode.DISPATCHED
        category_key = None
        if category_text:
            category_key = category_split(category_text)
            if category_key is None:
                self.error(row, "问题分类", f"“{category_text}”应写成“一级—二级”，例如“公共服务—水电气暖”。")
            elif len(category_key[0]) > 50 or len(category_key[1]) > 50:
                self.error(row, "问题分类", "分类名称不能超过50字。")
                category_key = None
        normalised = ""
        if phone_text:
            try:
                normalised = phone_normalise(phone_text)
            except InvalidInput as exc:
                self.error(row, "联系电话", exc.message)
        township = None
        if township_name:
            township = self.units.get(township_name)
            if township is None:
                self.error(row, "所属乡镇", f"未知的乡镇街道“{township_name}”。")
            elif township.group != AssessmentGroup.TOWNSHIP:
                self.error(row, "所属乡镇", f"“{township_name}”不是乡镇街道。")
                township = None
        unit = None
        if unit_name:
            unit = self.units.get(unit_name)
            if unit is None:
                self.error(row, "承办单位", f"未知的承办单位“{unit_name}”（请先导入单位）。")

        # Times must follow each other.
        if registered_at:
            for label, value in (("派单时间", dispatched_at), ("签收时间", signed_at), ("办结时间", closed_at)):
                if value and value < registered_at:
                    self.error(row, label, f"{label}早于登记时间。")
        if dispatched_at and signed_at and signed_at < dispatched_at:
            self.error(row, "签收时间", "签收时间早于派单时间。")
        if callback and not closed_at:
            self.error(row, "回访结果", "填写了回访结果的工单必须填写办结时间。")

        fields = {
            "number": number, "source": source, "channel_id": channel_id, "platform_id": None,
            "upstream_number": upstream_number if source == Source.UPPER else "",
            "handling_mode": mode or HandlingMode.DISPATCHED,
            "appeal_type_id": appeal.pk if appeal else None, "category_id": None, "content": content,
            "caller_name": caller_name, "caller_phone": normalised, "caller_phone_digest": phone_digest(normalised),
            "address": address, "township_id": township.pk if township else None, "unit_id": unit.pk if unit else None,
            "registered_at": registered_at, "dispatch_deadline": None, "dispatched_at": None, "sign_deadline": None,
            "signed_at": None, "handle_deadline": None, "replied_at": None, "closed_at": None,
            "deadline_warning": "", "return_count": return_count or 0, "extension_count": extension_count or 0,
            "callback_result": callback or "", "callback_resolved": resolved, "callback_at": None,
            "reply_text": reply_text,
        }
        record = {"row": row, "fields": fields, "category_key": category_key, "platform_name": platform_name,
                  "moves": []}
        if registered_at is None or not appeal or source is None:
            return record
        if mode == HandlingMode.COORDINATED:
            closed = closed_at or registered_at
            fields.update(status=Status.CLOSED, closed_at=closed, replied_at=closed)
            record["moves"] = [(EventType.CLOSED_DIRECTLY, Status.PENDING_DISPATCH, Status.CLOSED, closed)]
            if callback:
                fields["callback_at"] = closed
            return record
        fields["dispatch_deadline"] = dispatch_deadline_for(registered_at, rules=self.rules)
        if unit is None:
            if (dispatched_at or signed_at or closed_at) and not unit_name:
                what = "上级交办" if source == Source.UPPER else "交办处理"
                self.error(row, "承办单位", f"{what}的工单已派单或办结，必须填写承办单位。")
            fields["status"] = Status.PENDING_DISPATCH
            return record
        dispatched = dispatched_at or registered_at
        deadlines = deadlines_for_dispatch(ticket=self.probes[appeal.pk], dispatched_at=dispatched, calendar=self.calendar,
                                           rules=self.rules)
        fields.update(dispatched_at=dispatched, sign_deadline=sign_deadline or deadlines.sign,
                      handle_deadline=handle_deadline or deadlines.handle,
                      deadline_warning="；".join(deadlines.warnings)[:200])
        moves = [(EventType.DISPATCHED, Status.PENDING_DISPATCH, Status.PENDING_SIGN, dispatched)]
        status = Status.PENDING_SIGN
        if signed_at:
            fields["signed_at"] = signed_at
            moves.append((EventType.SIGNED, Status.PENDING_SIGN, Status.HANDLING, signed_at))
            status = Status.HANDLING
        if closed_at:
            fields.update(closed_at=closed_at, replied_at=closed_at)
            if callback:
                fields["callback_at"] = closed_at
            moves.append((EventType.CALLBACK if callback else EventType.CLOSED, status, Status.CLOSED, closed_at))
            status = Status.CLOSED
        fields["status"] = status
        record["moves"] = moves
        return record

    # -- writing ----------------------------------------------------------------------------
    def volume_days(self, records: list[dict]) -> set:
        return {value.astimezone(self.tz).date() for r in records if (value := r["fields"]["registered_at"])}

    def write(self, records: list[dict]) -> dict:
        total = len(records)
        created = {"categories": self.create_categories(records), "platforms": self.create_platforms(records)}
        for record in records:
            fields = record["fields"]
            fields["category_id"] = self.categories[record["category_key"]]
            if record["platform_name"]:
                fields["platform_id"] = self.platforms[record["platform_name"]]
        existing = self.existing([r["fields"]["number"] for r in records])
        self.check_upstream(records, existing)
        if self.errors:
            return {}
        now = timezone.now()
        actor_id = self.actor.pk if self.actor else None
        new, changed, events = [], [], []
        for record in records:
            fields = record["fields"]
            old = existing.get(fields["number"])
            if old is None:
                new.append(record)
                continue
            names = [name for name in self.row_fields() if old[name] != fields[name]]
            if not names:
                continue
            steps = self.lifecycle_steps(record, old)
            if steps is None:  # refused: the row error is recorded, nothing will be written
                continue
            changed.append((old["id"], {name: fields[name] for name in names}))
            origin = {"imported": True, "row": record["row"], "file": self.source_name}
            for type_, from_status, to_status, at in steps:
                data = dict(origin)
                if type_ == EventType.CALLBACK:
                    data.update(result=fields["callback_result"], resolved=fields["callback_resolved"])
                events.append(self.event(old["id"], type_, actor_id, at, fields, from_status, to_status, data))
            diff = {name: _diff(name, old[name], fields[name]) for name in names}
            events.append(self.event(old["id"], EventType.IMPORTED, actor_id, now, fields,
                                     old["status"], fields["status"],
                                     {"row": record["row"], "file": self.source_name, "changed": diff}))
        if self.errors:
            return {}
        self.progress(0, total, "写入")
        rows = []
        for record in new:
            row = dict(record["fields"])
            row.update(title="", upstream_deadline=None, urgent=False, confidential=False, contact_granted=False,
                       registered_by_id=actor_id, feedback_deadline=None, internal_note="",
                       redo_count=0, closed_by_judgement=False, merged_into_id=None, created_at=now, updated_at=now)
            rows.append(row)
        ids = insert_rows(Ticket, rows, with_ids=True)
        for ticket_id, record in zip(ids, new, strict=True):
            fields = record["fields"]
            events.append(self.event(ticket_id, EventType.REGISTERED, None, fields["registered_at"], None, "",
                                     Status.PENDING_DISPATCH, {"source": fields["source"], "imported": True,
                                                               "handling_mode": fields["handling_mode"]}))
            for type_, from_status, to_status, at in record["moves"]:
                data = {"imported": True}
                if type_ == EventType.CALLBACK:
                    data.update(result=fields["callback_result"], resolved=fields["callback_resolved"])
                events.append(self.event(ticket_id, type_, None, at, fields, from_status, to_status, data))
            events.append(self.event(ticket_id, EventType.IMPORTED, actor_id, now, fields, "", fields["status"],
                                     {"row": record["row"], "file": self.source_name}))
        self.progress(total // 2, total, "写入")
        if changed:
            self.update_existing(changed, now)
        insert_rows(TicketEvent, events)
        self.bump_sequences([r["fields"]["number"] for r in new])
        self.progress(total, total, "写入")
        return {"created": len(new), "updated": len(changed), "unchanged": total - len(new) - len(changed),
                "events": len(events), "new_categories": created["categories"],
                "new_platforms": created["platforms"]}

    def lifecycle_steps(self, record: dict, old: dict) -> list[tuple] | None:
        """The transitions that take an existing ticket from its status in the system to the row's:
        the row's own steps from that status on, or one direct step; each must be allowed by
        ``ALLOWED_TRANSITIONS`` (the table the services use). A row behind the ticket (an older
        file), one that would reopen a closed or merged ticket, or one dated before the ticket's
        last step is refused with a row error (``None``)."""
        fields, row = record["fields"], record["row"]
        current, target = Status(old["status"]), Status(fields["status"])
        if current == target:
            return []
        where = f"工单{fields['number']}在系统中"
        if current in (Status.CLOSED, Status.MERGED):
            self.error(row, "工单编号", f"{where}已是“{current.label}”，文件中为“{target.label}”："
                                    "导入不能重开已办结或已并单的工单。")
            return None
        if _rank(target) < _rank(current):
            self.error(row, "工单编号", f"{where}为“{current.label}”，文件中为“{target.label}”：{OLDER_FILE}")
            return None
        moves = record["moves"]
        starts = [i for i, (_, from_status, _, _) in enumerate(moves) if from_status == current]
        if starts:
            steps = moves[starts[0]:]
        else:
            type_, _, _, at = moves[-1]
            steps = [(type_, current, target, at)]
        for _, from_status, to_status, _ in steps:
            if to_status not in ALLOWED_TRANSITIONS[Status(from_status)]:
                self.error(row, "工单编号", f"{where}为“{current.label}”，文件中为“{target.label}”："
                                        f"办理流程不允许从“{Status(from_status).label}”变为“{Status(to_status).label}”。")
                return None
        last = max((old[name] for name in ("registered_at", "dispatched_at", "signed_at", "replied_at") if old[name]),
                   default=None)
        type_, _, _, at = steps[0]
        if last and at < last:
            column = STEP_COLUMNS.get(type_, "登记时间")
            self.error(row, column, f"{column}{_clock(at)}早于系统中该工单最近一步的时间{_clock(last)}：{OLDER_FILE}")
            return None
        return steps

    @staticmethod
    def event(ticket_id, type_, actor_id, at, fields, from_status, to_status, data) -> dict:
        return {"ticket_id": ticket_id, "type": type_, "actor_id": actor_id,
                "unit_id": fields["unit_id"] if fields else None, "from_status": from_status or "",
                "to_status": to_status or "", "note": "", "data": data, "created_at": at}

    def create_categories(self, records: list[dict]) -> int:
        """Unknown categories are created, with codes after the last numeric code of their level."""
        wanted = sorted({r["category_key"] for r in records if r["category_key"] not in self.categories})
        for parent_name, name in wanted:
            parent_id = self.top_categories.get(parent_name)
            if parent_id is None:
                code = _next_code(Category.objects.filter(parent__isnull=True), "", 2)
                parent_id = Category.objects.create(code=code, name=parent_name, order=int(code)).pk
                self.top_categories[parent_name] = parent_id
            parent_code = Category.objects.values_list("code", flat=True).get(pk=parent_id)
            code = _next_code(Category.objects.filter(parent_id=parent_id), parent_code, 2)
            self.categories[(parent_name, name)] = Category.objects.create(
                code=code, name=name, parent_id=parent_id, order=int(code[-2:])).pk
        return len(wanted)

    def create_platforms(self, records: list[dict]) -> int:
        wanted = sorted({r["platform_name"] for r in records if r["platform_name"]} - set(self.platforms))
        for name in wanted:
            last = UpperPlatform.objects.aggregate(m=Max("order"))["m"] or 0
            code = f"p{UpperPlatform.objects.count() + 1:03d}"
            while UpperPlatform.objects.filter(code=code).exists():
                code += "x"
            self.platforms[name] = UpperPlatform.objects.create(code=code, name=name, order=last + 1).pk
        return len(wanted)

    def row_fields(self) -> list[str]:
        """The fields a re-import compares and updates: the answer only when the file has the column
        (a file without 答复内容 must not wipe answers written in the system)."""
        return [*ROW_FIELDS, "reply_text"] if "答复内容" in self.index else ROW_FIELDS

    def existing(self, numbers: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for start in range(0, len(numbers), 5000):
            chunk = numbers[start:start + 5000]
            for row in Ticket.objects.filter(number__in=chunk).values("id", "number", *self.row_fields()):
                found[row["number"]] = row
        return found

    def check_upstream(self, records: list[dict], existing: dict) -> None:
        upstream = [r for r in records if r["fields"]["upstream_number"]]
        if not upstream:
            return
        numbers = sorted({r["fields"]["upstream_number"] for r in upstream})
        taken: dict[tuple[int, str], str] = {}
        for start in range(0, len(numbers), 5000):
            qs = Ticket.objects.filter(upstream_number__in=numbers[start:start + 5000])
            for platform_id, number, ticket_number in qs.values_list("platform_id", "upstream_number", "number"):
                taken[(platform_id, number)] = ticket_number
        for record in upstream:
            fields = record["fields"]
            owner = taken.get((fields["platform_id"], fields["upstream_number"]))
            if owner and owner != fields["number"]:
                self.error(record["row"], "上级工单编号",
                           f"上级工单编号{fields['upstream_number']}已登记为工单{owner}。")

    def update_existing(self, changed: list[tuple[int, dict]], now: datetime) -> None:
        """Write each changed ticket's changed fields: one ``UPDATE … WHERE id = %s`` per ticket, run
        with ``executemany`` per set of changed columns (``bulk_update``'s CASE over every field cost
        ~50 ms a row)."""
        by_columns: dict[tuple[str, ...], list[list]] = {}
        for pk, values in changed:
            names = tuple(sorted(values))
            prepared = [_FIELDS[name].get_db_prep_save(values[name], connection) for name in names]
            by_columns.setdefault(names, []).append([*prepared, _FIELDS["updated_at"].get_db_prep_save(now, connection),
                                                     pk])
        table = connection.ops.quote_name(Ticket._meta.db_table)
        with connection.cursor() as cursor:
            for names, params in by_columns.items():
                columns = [*(_FIELDS[name].column for name in names), "updated_at"]
                assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
                cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)  # noqa: S608

    def bump_sequences(self, numbers: list[str]) -> None:
        """Imported numbers in this centre's own format advance the day's counter, so that tickets
        registered later never collide with them."""
        pattern = re.compile(rf"^{re.escape(settings.HOTLINE_TICKET_PREFIX)}(\d{{8}})(\d{{5}})$")
        highest: dict[str, int] = {}
        for number in numbers:
            match = pattern.match(number)
            if match:
                key, value = match.group(1), int(match.group(2))
                highest[key] = max(highest.get(key, 0), value)
        if not highest:
            return
        current = dict(TicketSequence.objects.filter(key__in=highest).values_list("key", "value"))
        TicketSequence.objects.bulk_create(
            [TicketSequence(key=k, value=v) for k, v in highest.items() if k not in current])
        for key, value in highest.items():
            if key in current and current[key] < value:
                TicketSequence.objects.filter(key=key, value__lt=value).update(value=value)


# The order in which a ticket's statuses follow each other; an import never moves a ticket to an
# earlier one. A status not listed (added to the lifecycle later) counts as open, before 已办结.
STATUS_RANK = {
    Status.PENDING_DISPATCH: 0, Status.PENDING_SIGN: 1, Status.RETURN_PENDING: 1.5, Status.HANDLING: 2,
    Status.REPLIED: 3, Status.PENDING_CALLBACK: 4, Status.UNSATISFIED: 4.5, Status.CLOSED: 5, Status.MERGED: 5,
}
OLDER_FILE = "文件早于系统中的记录，导入不能使工单回退。"
# The file's column that dates each kind of step.
STEP_COLUMNS = {EventType.DISPATCHED: "派单时间", EventType.SIGNED: "签收时间", EventType.CLOSED: "办结时间",
                EventType.CALLBACK: "办结时间", EventType.CLOSED_DIRECTLY: "办结时间"}


def _rank(status: Status) -> float:
    return STATUS_RANK[status]


def _clock(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _next_code(queryset, prefix: str, width: int) -> str:
    numbers = [int(c[len(prefix):]) for c in queryset.values_list("code", flat=True)
               if c.startswith(prefix) and c[len(prefix):].isdigit()]
    candidate = max([n for n in numbers if n < 99] or [0]) + 1
    while True:
        code = f"{prefix}{candidate:0{width}d}"
        if not Category.objects.filter(code=code).exists():
            return code
        candidate += 1


def _diff(name: str, old, new) -> list:
    """[old, new] for the ``imported`` event; caller fields say only that they changed: the audit
    trail must not keep the names and numbers that the ticket table stores encrypted."""
    if name in CALLER_FIELDS:
        return [CALLER_REDACTED, CALLER_REDACTED]
    return [_plain(old), _plain(new)]


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value
