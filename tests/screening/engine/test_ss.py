"""A-SS-1..4 (Sjögren's syndrome). Screening date 2026-07-20."""

import pytest

from screening.engine import validate_facts

from . import make_case as case

ALL_ZERO = dict.fromkeys(
    [
        "constitutional",
        "lymphadenopathy",
        "glandular",
        "articular",
        "cutaneous",
        "pulmonary",
        "renal",
        "muscular",
        "peripheral_nervous_system",
        "central_nervous_system",
        "haematological",
        "biological",
    ],
    0,
)

# --- A-SS-1 ---------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "status"), [(True, "met"), (False, "not_met")])
def test_it_reads_the_2016_classification(answer, status):
    assert case("SS").set("ss.acr_eular_2016_met", answer).status("A-SS-1") == status


def test_it_is_unknown_without_the_classification():
    c = case("SS").delete("ss.acr_eular_2016_met")
    assert c.status("A-SS-1") == "unknown"
    assert c.missing_fields("A-SS-1") == ["ss.acr_eular_2016_met"]


# --- A-SS-2 ---------------------------------------------------------------------------


@pytest.mark.parametrize(("result", "status"), [("positive", "met"), ("negative", "not_met")])
def test_it_needs_anti_ro_positive(result, status):
    assert case("SS").set("ss.anti_ro_ssa.result", result).status("A-SS-2") == status


def test_it_needs_anti_ro_from_screening():
    c = case("SS").delete("ss.anti_ro_ssa")
    assert c.missing_fields("A-SS-2") == ["ss.anti_ro_ssa"]
    c = case("SS").set("ss.anti_ro_ssa.date", "2025-12-01")
    assert c.status("A-SS-2") == "unknown"


# --- A-SS-3: stimulated ≥ 0.05 or unstimulated ≥ 0.01 mL/min ---------------------------


@pytest.mark.parametrize(
    ("stimulated", "unstimulated", "status"),
    [
        (0.05, 0.0099, "met"),
        (0.049, 0.0099, "not_met"),
        (0.049, 0.01, "met"),
        (0.05, 0.01, "met"),
    ],
)
def test_either_saliva_flow_suffices(stimulated, unstimulated, status):
    c = case("SS").observed("ss.stimulated_whole_saliva_ml_per_min", stimulated)
    c.observed("ss.unstimulated_whole_saliva_ml_per_min", unstimulated)
    assert c.status("A-SS-3") == status


def test_it_is_unknown_when_neither_flow_decides():
    c = case("SS").delete("ss.stimulated_whole_saliva_ml_per_min")
    c.delete("ss.unstimulated_whole_saliva_ml_per_min")
    assert c.status("A-SS-3") == "unknown"
    # One flow below its threshold and the other missing: still undecided.
    c.observed("ss.stimulated_whole_saliva_ml_per_min", 0.049)
    assert c.status("A-SS-3") == "unknown"
    assert c.missing_fields("A-SS-3") == ["ss.unstimulated_whole_saliva_ml_per_min"]


def test_it_names_the_flows():
    c = case("SS").observed("ss.stimulated_whole_saliva_ml_per_min", 0.049)
    c.observed("ss.unstimulated_whole_saliva_ml_per_min", 0.0099)
    assert c.result("A-SS-3").reason == (
        "stimulated whole saliva flow 0.049 mL/min < 0.05 mL/min; "
        "unstimulated whole saliva flow 0.0099 mL/min < 0.01 mL/min"
    )


def test_one_flow_met_is_enough_even_if_the_other_is_missing():
    c = case("SS").observed("ss.stimulated_whole_saliva_ml_per_min", 0.05)
    c.delete("ss.unstimulated_whole_saliva_ml_per_min")
    assert c.status("A-SS-3") == "met"


def test_it_is_unknown_when_the_other_flow_is_missing():
    c = case("SS").observed("ss.stimulated_whole_saliva_ml_per_min", 0.049)
    c.delete("ss.unstimulated_whole_saliva_ml_per_min")
    assert c.missing_fields("A-SS-3") == ["ss.unstimulated_whole_saliva_ml_per_min"]


# --- A-SS-4: ESSDAI ≥ 5 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "total", "status"),
    [
        ({"glandular": 2}, 4, "not_met"),
        ({"constitutional": 1, "glandular": 1}, 5, "met"),
        ({"muscular": 1}, 6, "met"),
        ({"biological": 1, "glandular": 2}, 5, "met"),
    ],
)
def test_it_needs_essdai_5(levels, total, status):
    c = case("SS").set("ss.essdai.domains", {**ALL_ZERO, **levels})
    result = c.result("A-SS-4")
    assert result.status.value == status
    assert result.values["essdai"] == total


def test_it_records_the_domain_scores():
    result = case("SS").result("A-SS-4")
    assert result.values["essdai_domain_scores"]["articular"] == 4
    assert result.values["essdai_domain_scores"]["glandular"] == 2


def test_unscored_domains_leave_a_low_total_open():
    domains = {**ALL_ZERO, "glandular": 2}
    del domains["renal"]
    c = case("SS").set("ss.essdai.domains", domains)
    result = c.result("A-SS-4")
    assert result.status.value == "unknown"
    assert result.missing[0].field == "ss.essdai.domains"
    assert result.missing[0].reason.render() == "missing: 1 ESSDAI domain(s) not scored (renal)"


def test_a_partial_essdai_that_reaches_5_is_enough():
    c = case("SS").set("ss.essdai.domains", {"muscular": 1})
    assert c.status("A-SS-4") == "met"


@pytest.mark.parametrize(
    ("domain", "level"), [("central_nervous_system", 1), ("constitutional", 3), ("biological", 3)]
)
def test_it_rejects_a_level_the_domain_does_not_have(domain, level):
    c = case("SS").set(f"ss.essdai.domains.{domain}", level)
    assert [e.path for e in validate_facts(c.doc)] == [f"ss.essdai.domains.{domain}"]


def test_it_is_unknown_without_a_screening_essdai():
    c = case("SS").set("ss.essdai.date", "2026-06-01")
    assert c.status("A-SS-4") == "unknown"
