"""Fast inserts for large imports: COPY on PostgreSQL, ``bulk_create`` elsewhere."""

from __future__ import annotations

import json

from django.db import connection

from ..fields import EncryptedCharField


def insert_rows(model, rows: list[dict], *, with_ids: bool = False, batch_size: int = 1000) -> list[int]:
    """Insert ``rows`` (dicts keyed by field attname, all with the same keys) and return their ids
    when ``with_ids``. Runs inside the caller's transaction."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy(model, rows, with_ids=with_ids)
    objects = [model(**row) for row in rows]
    model._base_manager.bulk_create(objects, batch_size=batch_size)
    return [obj.pk for obj in objects] if with_ids else []


def _copy(model, rows: list[dict], *, with_ids: bool) -> list[int]:
    table = model._meta.db_table
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = list(rows[0])
    columns = [fields[name].column for name in names]
    json_names = {n for n in names if fields[n].get_internal_type() == "JSONField"}
    # COPY bypasses the ORM: encrypted fields (callers' names and numbers) are encrypted here.
    encrypted = {n: fields[n] for n in names if isinstance(fields[n], EncryptedCharField)}
    ids: list[int] = []
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids = [r[0] for r in cursor.fetchall()]
            columns = ["id", *columns]
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
            for i, row in enumerate(rows):
                values = [json.dumps(row[n], ensure_ascii=False) if n in json_names
                          else encrypted[n].get_prep_value(row[n]) if n in encrypted else row[n] for n in names]
                if with_ids:
                    values.insert(0, ids[i])
                copy.write_row(values)
    return ids
