"""The assessment tables' XLSX writes no formula (issue 13, item 1)."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from assessment.exports import tables_xlsx
from assessment.models import UnitScore
from assessment.services import assessment_compute

from .conftest import EVAL_APRIL

pytestmark = pytest.mark.django_db
HYPERLINK = '=HYPERLINK("http://evil.example/","点击")'


def test_unit_names_that_are_formulas_are_written_as_text(make_tickets, unit_a):
    # given: a unit's name for the month as a careless (or hostile) administrator could type it
    make_tickets(unit_a, 10)
    assessment_compute(month=date(2024, 4, 1), evaluated_at=EVAL_APRIL)
    UnitScore.objects.filter(unit=unit_a).update(unit_short_name=HYPERLINK)
    # when
    book = load_workbook(BytesIO(tables_xlsx(month=date(2024, 4, 1))))
    # then
    cells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "'" + HYPERLINK in values
