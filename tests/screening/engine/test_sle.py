"""A-SLE-1..4: classification, serology, SLEDAI-2K, stable standard treatment."""

import pytest

from . import make_case as case

# --- A-SLE-1 ---------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "status"), [(True, "met"), (False, "not_met")])
def test_it_reads_the_2019_classification(answer, status):
    assert case("SLE").set("sle.eular_acr_2019_met", answer).status("A-SLE-1") == status


def test_it_is_unknown_without_the_classification():
    c = case("SLE").delete("sle.eular_acr_2019_met")
    assert c.status("A-SLE-1") == "unknown"
    assert c.missing_fields("A-SLE-1") == ["sle.eular_acr_2019_met"]


# --- A-SLE-2: ANA ≥ 1:80 and/or anti-dsDNA and/or anti-Sm ------------------------------


def serology(c, ana, dsdna, sm):
    c.set("sle.ana.titre", ana)
    c.set("sle.anti_dsdna.result", dsdna)
    c.set("sle.anti_sm.result", sm)
    return c


@pytest.mark.parametrize(
    ("ana", "dsdna", "sm", "status"),
    [
        ("1:80", "negative", "negative", "met"),
        ("1:40", "negative", "negative", "not_met"),
        ("negative", "positive", "negative", "met"),
        ("negative", "negative", "positive", "met"),
        ("negative", "negative", "negative", "not_met"),
    ],
)
def test_it_needs_one_positive_test(ana, dsdna, sm, status):
    assert serology(case("SLE"), ana, dsdna, sm).status("A-SLE-2") == status


def test_it_names_the_titre_and_threshold():
    result = serology(case("SLE"), "1:40", "negative", "negative").result("A-SLE-2")
    assert result.reason.startswith("ANA titre 1:40 < 1:80 on 2026-02-24")


def test_it_is_unknown_when_the_only_undecided_test_is_missing():
    c = serology(case("SLE"), "1:40", "negative", "negative").delete("sle.anti_sm")
    assert c.status("A-SLE-2") == "unknown"
    assert c.missing_fields("A-SLE-2") == ["sle.anti_sm"]


def test_it_is_unknown_when_the_only_positive_test_is_stale():
    c = serology(case("SLE"), "1:320", "negative", "negative")
    c.set("sle.ana.date", c.days_before(29))
    assert c.status("A-SLE-2") == "unknown"
    assert c.result("A-SLE-2").missing[0].reason.render().startswith("stale: observed")


# --- A-SLE-3: SLEDAI-2K ≥ 8; clinical score ≥ 6 when serology is scored ----------------


@pytest.mark.parametrize(
    ("descriptors", "status"),
    [
        (["arthritis", "rash", "fever"], "not_met"),  # 7
        (["arthritis", "proteinuria"], "met"),  # 8, no serology items
        (["arthritis", "rash", "low_complement"], "met"),  # 8, clinical 6
        (["arthritis", "low_complement", "increased_dna_binding"], "not_met"),  # 8, clinical 4
        (["rash", "alopecia", "fever", "low_complement", "increased_dna_binding"], "not_met"),
        # ^ 9, clinical 5
        (["arthritis", "rash", "low_complement", "increased_dna_binding"], "met"),  # 10, clin 6
    ],
)
def test_it_scores_sledai_and_the_clinical_score(descriptors, status):
    c = case("SLE").set("sle.sledai_2k.descriptors", descriptors)
    assert c.status("A-SLE-3") == status


def test_it_names_both_scores():
    c = case("SLE").set(
        "sle.sledai_2k.descriptors",
        ["rash", "alopecia", "fever", "low_complement", "increased_dna_binding"],
    )
    result = c.result("A-SLE-3")
    assert result.reason == (
        "SLEDAI-2K 9 ≥ 8 on 2026-02-25; "
        "clinical SLEDAI-2K without low complement and DNA binding 5 < 6"
    )
    assert (result.values["sledai_2k"], result.values["sledai_2k_clinical"]) == (9, 5)


def test_it_is_unknown_without_a_sledai_during_screening():
    c = case("SLE").delete("sle.sledai_2k")
    assert c.status("A-SLE-3") == "unknown"
    c = case("SLE")
    c.set("sle.sledai_2k.date", c.days_before(40))
    assert c.status("A-SLE-3") == "unknown"


# --- A-SLE-4: ≥ 6 months stable standard treatment; active ≥ 2 months -----------------


def only_episode(c, drug, value=None, unit=None, start="2024-01-01", end=None):
    episode = {"drug": drug, "start": start}
    if value is not None:
        episode["dose"] = {"value": value, "unit": unit}
    if end is not None:
        episode["end"] = end
    return c.set("treatment_history", [episode])


@pytest.mark.parametrize(("start", "status"), [("2025-09-02", "met"), ("2025-09-03", "not_met")])
def test_it_needs_six_calendar_months_of_stable_treatment(start, status):
    c = only_episode(case("SLE"), "hydroxychloroquine", 400, "mg/day", start=start)
    assert c.status("A-SLE-4") == status


def test_it_accepts_six_months_anywhere_before_screening():
    c = only_episode(case("SLE"), "azathioprine", 100, "mg/day", "2020-01-01", "2020-07-01")
    assert c.status("A-SLE-4") == "met"


@pytest.mark.parametrize(
    ("drug", "value", "unit", "status"),
    [
        ("prednisone", 20, "mg/day", "met"),
        ("prednisone", 20.5, "mg/day", "not_met"),
        ("prednisolone", 20, "mg/day", "met"),
        ("methylprednisolone", 16, "mg/day", "met"),  # = 20 mg prednisone
        ("methylprednisolone", 17, "mg/day", "not_met"),
        ("hydrocortisone", 80, "mg/day", "met"),
        ("hydrocortisone", 81, "mg/day", "not_met"),
        ("dexamethasone", 3, "mg/day", "met"),
        ("dexamethasone", 3.1, "mg/day", "not_met"),
        ("betamethasone", 2.4, "mg/day", "met"),
        ("deflazacort", 24, "mg/day", "met"),
        ("deflazacort", 25, "mg/day", "not_met"),
        ("hydroxychloroquine", 400, "mg/day", "met"),
        ("hydroxychloroquine", 401, "mg/day", "not_met"),
        ("chloroquine", 500, "mg/day", "met"),
        ("chloroquine", 501, "mg/day", "not_met"),
        ("mycophenolate_mofetil", 2, "g/day", "met"),
        ("mycophenolate_mofetil", 2000, "mg/day", "met"),
        ("mycophenolate_mofetil", 2.5, "g/day", "not_met"),
        ("azathioprine", 2, "mg/kg/day", "met"),
        ("azathioprine", 2.1, "mg/kg/day", "not_met"),
        ("azathioprine", 117, "mg/day", "met"),  # 58.5 kg: 2 mg/kg/day
        ("azathioprine", 118, "mg/day", "not_met"),
        ("methotrexate", 20, "mg/week", "met"),
        ("methotrexate", 22.5, "mg/week", "not_met"),
        ("nsaid", None, None, "met"),
        ("rituximab", 1000, "mg", "met"),
        ("belimumab", None, None, "met"),
        ("telitacicept", None, None, "met"),
        ("tacrolimus", 3, "mg/day", "met"),
    ],
)
def test_it_applies_the_standard_treatment_dose_ceilings(drug, value, unit, status):
    c = only_episode(case("SLE"), drug, value, unit)
    assert c.status("A-SLE-4") == status


def test_it_names_the_prednisone_equivalent():
    result = only_episode(case("SLE"), "methylprednisolone", 16, "mg/day").result("A-SLE-4")
    assert "methylprednisolone 16 mg/day (= 20 mg/day prednisone-equivalent) ≤ 20 mg/day" in (
        result.reason
    )


def test_it_needs_the_weight_for_azathioprine_in_mg_per_day():
    c = only_episode(case("SLE"), "azathioprine", 100, "mg/day").delete("patient.weight_kg")
    assert c.status("A-SLE-4") == "unknown"
    assert c.missing_fields("A-SLE-4") == ["patient.weight_kg"]


def test_it_needs_the_dose_of_a_drug_with_a_ceiling():
    c = only_episode(case("SLE"), "prednisone")
    assert c.status("A-SLE-4") == "unknown"
    assert c.missing_fields("A-SLE-4") == ["treatment_history.0.dose"]


def test_one_qualifying_drug_is_enough():
    c = case("SLE").set(
        "treatment_history",
        [
            {"drug": "prednisone", "dose": {"value": 30, "unit": "mg/day"}, "start": "2024-01-01"},
            {
                "drug": "hydroxychloroquine",
                "dose": {"value": 400, "unit": "mg/day"},
                "start": "2024-01-01",
            },
        ],
    )
    result = c.result("A-SLE-4")
    assert result.status.value == "met"
    assert "hydroxychloroquine 400 mg/day ≤ 400 mg/day" in result.reason


def test_it_fails_without_standard_treatment():
    assert case("SLE").set("treatment_history", []).status("A-SLE-4") == "not_met"


def test_it_is_unknown_without_a_treatment_history():
    c = case("SLE").delete("treatment_history")
    assert c.status("A-SLE-4") == "unknown"
    assert c.missing_fields("A-SLE-4") == ["treatment_history"]


@pytest.mark.parametrize(("since", "status"), [("2026-01-02", "met"), ("2026-01-03", "not_met")])
def test_it_needs_disease_active_two_months_before_screening(since, status):
    assert case("SLE").set("sle.active_since", since).status("A-SLE-4") == status


def test_it_is_unknown_without_the_activity_date():
    c = case("SLE").delete("sle.active_since")
    assert c.status("A-SLE-4") == "unknown"
    assert c.missing_fields("A-SLE-4") == ["sle.active_since"]
    c = case("SLE").set("sle.active_since", "2026-03-10")
    assert c.status("A-SLE-4") == "unknown"
