"""The one entry point of every import: read the file, run the importer, all or nothing."""

from __future__ import annotations

from .base import Progress
from .calls import CallImporter
from .directory import StationingImporter, UnitImporter
from .reader import read_table
from .tickets import TicketImporter

IMPORTERS = {cls.kind: cls for cls in (UnitImporter, StationingImporter, TicketImporter, CallImporter)}


def import_file(*, kind: str, data: bytes, name: str = "", actor=None, progress: Progress | None = None) -> dict:
    """Import ``data`` (CSV or XLSX bytes) as ``kind``; returns a summary, or raises ``ImportFailed``
    listing every bad row — in which case nothing was written."""
    importer = IMPORTERS[kind](actor=actor, progress=progress, source_name=name)
    table = read_table(data, name)
    return importer.run(table)
