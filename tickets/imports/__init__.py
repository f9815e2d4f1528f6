"""Spreadsheet imports (exchange.md): units, stationing, tickets and calls, from CSV or XLSX.

Every import is all or nothing (every bad row reported with its row number, column and reason,
nothing written), idempotent (a row whose key exists is updated, an unchanged row is left alone)
and reports progress. ``import_file`` is the one entry point for commands, the upload task and
the API.
"""

from .errors import ImportFailed, RowError
from .services import IMPORTERS, import_file

__all__ = ["IMPORTERS", "ImportFailed", "RowError", "import_file"]
