"""Nothing is dropped silently: a lab result in a unit the screening cannot convert is
passed over for the newest convertible one and named beside the input, and a reference
range in an unconvertible unit is named in the criterion's reason and missing list."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.models import ReferenceRange
from tests.factories import add_lab
from tests.screening.conftest import LAB, NOW, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def criterion(screening, rule_id):
    return next(c for c in screening.evaluation["criteria"] if c["rule_id"] == rule_id)


def test_an_unconvertible_newest_result_falls_back_to_the_newest_convertible_one(
    login, nurse, ranges, patient
):
    older = add_lab(patient, nurse, "platelets", 150, "10^9/L", when=NOW - timedelta(days=5))
    add_lab(patient, nurse, "platelets", 120, "10^9/L", when=NOW - timedelta(days=8))
    newest = add_lab(patient, nurse, "platelets", 99, "furlongs", when=NOW - timedelta(days=1))
    screening = start(nurse, patient)
    assert screening.facts["labs"]["platelets"]["value"] == 150
    assert screening.facts["meta"]["sources"]["labs.platelets"]["id"] == older.pk
    skipped = screening.facts["meta"]["prefill_skipped"]["labs.platelets"]
    assert [s["id"] for s in skipped] == [newest.pk]
    assert skipped[0]["unit"] == "furlongs" and skipped[0]["value"] == "99"
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    status = html[html.index('id="st-fld-labs-platelets"') :][:1200]
    day = (NOW - timedelta(days=1)).date().isoformat()
    assert (
        f"Not used: result #{newest.pk} (99 furlongs, {LAB}, {day}) is in a unit"
        " the screening cannot convert." in status
    )


def test_only_unconvertible_results_leave_the_value_empty_but_named(nurse, ranges, patient):
    bad = add_lab(patient, nurse, "anc", "2.0", "cells", when=NOW - timedelta(days=1))
    screening = start(nurse, patient)
    assert "anc" not in (screening.facts.get("labs") or {})
    skipped = screening.facts["meta"]["prefill_skipped"]["labs.anc"]
    assert skipped[0]["id"] == bad.pk and skipped[0]["reason"] == "unit"


def test_a_convertible_newest_result_skips_nothing(nurse, ranges, patient):
    add_lab(patient, nurse, "platelets", 99, "furlongs", when=NOW - timedelta(days=5))
    add_lab(patient, nurse, "platelets", 150, "10^9/L", when=NOW - timedelta(days=1))
    screening = start(nurse, patient)
    assert screening.facts["labs"]["platelets"]["value"] == 150
    assert "prefill_skipped" not in screening.facts["meta"]


def test_a_reference_range_in_an_unconvertible_unit_is_named_not_silent(nurse, patient):
    # AST has no conversion from µkat/L in the engine: no ULN, and we say why.
    ReferenceRange.objects.create(
        lab="Other lab", analyte="ast", sex="", unit="ukat/L", upper=Decimal("0.58")
    )
    add_lab(patient, nurse, "ast", 20, "U/L", when=NOW - timedelta(days=1), lab="Other lab")
    screening = start(nurse, patient)
    assert "uln" not in screening.facts["labs"]["ast"]
    org3 = criterion(screening, "A-ORG-3")
    assert org3["status"] == "unknown"
    explained = (
        "no ULN: the reference range of Other lab is in ukat/L, which cannot be converted to U/L"
    )
    missing = [m for m in screening.evaluation["missing"] if m["field"] == "labs.ast.uln"]
    assert [(m["rule_id"], m["reason"]) for m in missing] == [("A-ORG-3", explained)]
    assert (
        "AST 20 U/L: no ULN, the reference range of Other lab is in ukat/L,"
        " which cannot be converted to U/L" in org3["reason"]
    )
    assert "no ULN for the reporting lab" not in org3["reason"]
