"""Cells of every spreadsheet (XLSX or CSV) the product writes, and their reading back on import.

A cell that starts with ``= + - @`` or a tab / carriage return is a formula (or becomes one) in
Excel, WPS and LibreOffice: ``=HYPERLINK(...)`` in a caller's complaint would be a live link in an
export, ``=cmd|' /C calc'!A0`` a command. Every writer passes its rows through ``spreadsheet_row``,
which prefixes such text with an apostrophe (OWASP "CSV injection"), so it is stored as plain text
(openpyxl gives a cell whose text does not start with ``=`` the string type). Text that already
starts with apostrophes before such a character gets one more, so the rule is reversible:
``spreadsheet_cell_read`` (used by the import reader on every cell) removes exactly one, and a file
the product exported imports back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = frozenset("=+-@\t\r")
PREFIX = "'"


def _is_formula_like(text: str) -> bool:
    return text.lstrip(PREFIX)[:1] in FORMULA_STARTS


def spreadsheet_cell(value):
    """``value`` as it may be written into a cell: text that a spreadsheet would take for a formula
    gets an apostrophe in front; anything else (numbers, dates, other text) is unchanged."""
    if isinstance(value, str) and _is_formula_like(value):
        return PREFIX + value
    return value


def spreadsheet_row(values: Iterable) -> list:
    return [spreadsheet_cell(v) for v in values]


def spreadsheet_cell_read(value):
    """The reverse of ``spreadsheet_cell``, for a cell read from an imported file."""
    if isinstance(value, str) and value[:1] == PREFIX and _is_formula_like(value):
        return value[1:]
    return value
