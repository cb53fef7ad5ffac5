"""A-REF-1: glucocorticoids plus ≥ 2 immunosuppressants for ≥ 3 months (SLE example,
screening date 2026-03-02)."""

import pytest

from . import make_case as case


def history(c, *episodes):
    return c.set("treatment_history", list(episodes))


def episode(drug, start, end=None, name=None):
    made = {"drug": drug, "start": start}
    if end:
        made["end"] = end
    if name:
        made["name"] = name
    return made


def test_it_is_met_in_the_example():
    result = case("SLE").result("A-REF-1")
    assert result.status.value == "met"
    assert "immunosuppressants given ≥ 3 months: 2 ≥ 2 (azathioprine, mycophenolate mofetil)" in (
        result.reason
    )


@pytest.mark.parametrize("field", ["intolerant_or_inadequate_response", "effective_doses"])
def test_it_needs_both_statements(field):
    assert case("SLE").set(f"refractory.{field}", False).status("A-REF-1") == "not_met"
    c = case("SLE").delete(f"refractory.{field}")
    assert c.status("A-REF-1") == "unknown"
    assert c.missing_fields("A-REF-1") == [f"refractory.{field}"]


@pytest.mark.parametrize(("start", "status"), [("2025-12-02", "met"), ("2025-12-03", "not_met")])
def test_it_needs_three_months_of_glucocorticoid(start, status):
    c = history(
        case("SLE"),
        episode("prednisone", start),
        episode("azathioprine", "2024-01-01"),
        episode("methotrexate", "2024-01-01"),
    )
    assert c.status("A-REF-1") == status


@pytest.mark.parametrize(("end", "status"), [("2025-04-01", "met"), ("2025-03-31", "not_met")])
def test_each_immunosuppressant_needs_three_months(end, status):
    c = history(
        case("SLE"),
        episode("prednisone", "2024-01-01"),
        episode("azathioprine", "2024-01-01"),
        episode("methotrexate", "2025-01-01", end),
    )
    assert c.status("A-REF-1") == status


def test_the_same_drug_twice_counts_once():
    c = history(
        case("SLE"),
        episode("prednisone", "2024-01-01"),
        episode("azathioprine", "2023-01-01", "2023-06-01"),
        episode("azathioprine", "2024-01-01", "2024-06-01"),
    )
    assert c.status("A-REF-1") == "not_met"


def test_other_immunosuppressants_count_by_name():
    c = history(
        case("SLE"),
        episode("prednisone", "2024-01-01"),
        episode("other_immunosuppressant", "2024-01-01", name="mizoribine"),
        episode("other_immunosuppressant", "2025-01-01", name="iguratimod"),
    )
    result = c.result("A-REF-1")
    assert result.status.value == "met"
    assert "(iguratimod, mizoribine)" in result.reason


def test_antimalarials_and_nsaids_are_not_immunosuppressants():
    c = history(
        case("SLE"),
        episode("prednisone", "2024-01-01"),
        episode("hydroxychloroquine", "2024-01-01"),
        episode("nsaid", "2024-01-01"),
        episode("azathioprine", "2024-01-01"),
    )
    assert c.status("A-REF-1") == "not_met"


def test_it_is_unknown_without_a_history():
    c = case("SLE").delete("treatment_history")
    assert c.missing_fields("A-REF-1") == ["treatment_history"]
