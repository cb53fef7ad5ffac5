"""A-REF-1: glucocorticoids plus ≥ 2 immunosuppressants together for ≥ 3 months (SLE
example, screening date 2026-03-02)."""

import dataclasses

import pytest

from screening.engine import PROTOCOLS

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
    # Digest, A-REF-1: "read as a combination: the courses overlap for ≥ 3 months, not
    # three separate courses at any time in the history".
    result = case("SLE").result("A-REF-1")
    assert result.status.value == "met"
    assert (
        "glucocorticoid + ≥ 2 immunosuppressants together 2025-03-01 to 2025-06-30: ≥ 3 months"
        " (azathioprine, mycophenolate mofetil)"
    ) in result.reason
    assert result.values["combined_treatment"]["drugs"] == ["azathioprine", "mycophenolate mofetil"]


def test_a_ref_1_courses_years_apart_are_not_a_combination():
    # Digest, A-REF-1: "the courses overlap for ≥ 3 months, not three separate courses
    # at any time in the history" (issue 18: prednisone in 2010, azathioprine in 2015,
    # belimumab in 2020 used to pass).
    c = history(
        case("SLE"),
        episode("prednisone", "2010-01-01", "2010-12-31"),
        episode("azathioprine", "2015-01-01", "2015-12-31"),
        episode("belimumab", "2020-01-01", "2020-12-31"),
    )
    result = c.result("A-REF-1")
    assert result.status.value == "not_met"
    assert (
        "glucocorticoid + ≥ 2 immunosuppressants together: never before 2026-03-02"
        " (immunosuppressants given: azathioprine, belimumab)"
    ) in result.reason


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("2025-03-01", "2025-06-01", "met"),  # exactly 3 calendar months together
        ("2025-03-01", "2025-05-31", "not_met"),  # one day less
        ("2024-11-30", "2025-02-28", "met"),  # Nov 30 + 3 months = Feb 28 (clamped)
        ("2024-11-30", "2025-02-27", "not_met"),
    ],
)
def test_a_ref_1_overlap_of_three_calendar_months(start, end, status):
    # "3 months" = calendar months: together from S to E counts when S + 3 months ≤ E.
    c = history(
        case("SLE"),
        episode("prednisone", "2024-01-01"),
        episode("azathioprine", "2024-01-01"),
        episode("methotrexate", start, end),
    )
    assert c.status("A-REF-1") == status


def test_a_ref_1_glucocorticoid_must_overlap_the_immunosuppressants():
    c = history(
        case("SLE"),
        episode("prednisone", "2024-01-01", "2024-06-30"),
        episode("azathioprine", "2024-06-01"),
        episode("methotrexate", "2024-06-01"),
    )
    result = c.result("A-REF-1")
    assert result.status.value == "not_met"
    assert "together 2024-06-01 to 2024-06-30: < 3 months" in result.reason


def test_a_ref_1_two_immunosuppressants_at_every_moment_is_a_combination():
    # Azathioprine throughout; mycophenolate for 2 months, then methotrexate for 2:
    # glucocorticoid plus two immunosuppressants on every day of 4 months.
    c = history(
        case("SLE"),
        episode("prednisone", "2025-01-01"),
        episode("azathioprine", "2025-01-01"),
        episode("mycophenolate_mofetil", "2025-03-01", "2025-04-30"),
        episode("methotrexate", "2025-05-01", "2025-06-30"),
    )
    result = c.result("A-REF-1")
    assert result.status.value == "met"
    assert "together 2025-03-01 to 2025-06-30: ≥ 3 months" in result.reason


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


# --- Biologics: a protocol-version setting, named in the reason -----------------------


def biologic_history(c):
    return history(
        c,
        episode("prednisone", "2025-01-01"),
        episode("methotrexate", "2025-01-01"),
        episode("rituximab", "2025-01-01"),
    )


def with_biologics(setting):
    return dataclasses.replace(
        PROTOCOLS["1.0"], version=f"1.0-test-{setting}", refractory_biologics=setting
    )


@pytest.mark.parametrize(
    ("indication", "status", "said"),
    [
        ("SLE", "met", "biologics counted per the SLE list (belimumab, rituximab, telitacicept)"),
        (
            "dcSSc",
            "met",
            "biologics counted per the dcSSc list (belimumab, rituximab, tocilizumab)",
        ),
        ("AAV", "met", "biologics counted per the AAV list (rituximab)"),
        ("IIM", "not_met", "biologics not counted: the IIM block names no drug list"),
        ("SS", "not_met", "biologics not counted: the SS block names no drug list"),
    ],
)
def test_a_ref_1_biologics_follow_each_indications_own_list(indication, status, said):
    result = biologic_history(case(indication)).result("A-REF-1")
    assert result.status.value == status
    assert said in result.reason
    assert result.values["refractory_biologics"] == "per_indication"


def test_a_ref_1_biologics_setting_none_and_all():
    sle = biologic_history(case("SLE"))
    result = sle.result("A-REF-1", protocol=with_biologics("none"))
    assert result.status.value == "not_met"
    assert "biologics not counted: the A-REF-1 list (azathioprine, methotrexate" in result.reason
    assert "(protocol 1.0-test-none)" in result.reason
    iim = biologic_history(case("IIM"))
    result = iim.result("A-REF-1", protocol=with_biologics("all"))
    assert result.status.value == "met"
    assert "biologics counted (belimumab, rituximab, telitacicept, tocilizumab)" in result.reason


def test_a_ref_1_biologics_setting_refuses_an_unknown_choice():
    with pytest.raises(ValueError, match="refractory_biologics"):
        with_biologics("sometimes")
