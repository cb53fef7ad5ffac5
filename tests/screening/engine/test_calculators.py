"""Calculators, each against worked examples and at its validation limits."""

from datetime import date
from decimal import Decimal as D

import pytest

from screening.engine import (
    CalculatorError,
    age_on,
    bvas_active,
    bvas_counts,
    bvas_relapse_dates,
    cockcroft_gault,
    cockcroft_gault_umol,
    essdai,
    exceeds_uln_multiple,
    haq_di,
    mmt8_total,
    prednisone_equivalent_mg,
    relative_change,
    sledai_2k,
    standard_dose_check,
    uln_multiple,
    validate_vas,
    within_uln_multiple,
)
from screening.engine.calculators import (
    ESSDAI_DOMAINS,
    HAQ_DI_CATEGORIES,
    SLEDAI_2K_WEIGHTS,
    BvasItem,
)
from screening.engine.dates import Period, add_months
from screening.engine.protocols import PROTOCOLS

# --- Age -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        ("2008-03-02", "2026-03-02", 18),
        ("2008-03-03", "2026-03-02", 17),
        ("2008-02-29", "2026-02-28", 17),
        ("2008-02-29", "2026-03-01", 18),
        ("2008-02-29", "2028-02-29", 20),
        ("1960-12-31", "2026-01-01", 65),
    ],
)
def test_age_on_a_date(born, on, age):
    assert age_on(date.fromisoformat(born), date.fromisoformat(on)) == age


def test_age_before_birth_is_an_error():
    with pytest.raises(CalculatorError):
        age_on(date(2020, 1, 2), date(2020, 1, 1))


# --- SLEDAI-2K -------------------------------------------------------------------------


def test_sledai_has_the_24_standard_weights():
    assert len(SLEDAI_2K_WEIGHTS) == 24
    assert [w for w in SLEDAI_2K_WEIGHTS.values()].count(8) == 8
    assert [w for w in SLEDAI_2K_WEIGHTS.values()].count(4) == 6
    assert [w for w in SLEDAI_2K_WEIGHTS.values()].count(2) == 7
    assert [w for w in SLEDAI_2K_WEIGHTS.values()].count(1) == 3
    everything = sledai_2k(SLEDAI_2K_WEIGHTS)
    assert (everything.total, everything.clinical) == (105, 101)


def test_sledai_worked_example():
    score = sledai_2k(
        ["arthritis", "proteinuria", "rash", "low_complement", "increased_dna_binding"]
    )
    assert (score.total, score.clinical, score.serology_scored) == (14, 10, True)
    assert sledai_2k(["seizure", "fever"]).serology_scored is False


@pytest.mark.parametrize("bad", [["arthritis", "arthritis"], ["sneezing"]])
def test_sledai_rejects_unknown_or_repeated_descriptors(bad):
    with pytest.raises(CalculatorError):
        sledai_2k(bad)


# --- BVAS v3 ---------------------------------------------------------------------------


def counts(major=0, other=0, new=True):
    return bvas_counts(
        [BvasItem(f"m{i}", True, new) for i in range(major)]
        + [BvasItem(f"o{i}", False, new) for i in range(other)]
    )


def test_bvas_counts_and_activity():
    assert counts(1, 2).major == 1 and counts(1, 2).other == 2 and counts(1, 2).new == 3
    assert bvas_active(counts(1, 0)) and bvas_active(counts(0, 3))
    assert not bvas_active(counts(0, 2))


def test_bvas_relapse_definition():
    d = [date(2026, 1, day) for day in (1, 2, 3, 4, 5)]
    assert bvas_relapse_dates([(d[0], counts(1))]) == [d[0]]
    assert bvas_relapse_dates([(d[0], counts(0, 3))]) == [d[0]]
    assert bvas_relapse_dates([(d[0], counts(0, 2))]) == []
    assert bvas_relapse_dates([(d[0], counts(1, new=False))]) == []
    # 1–2 new items at two consecutive assessments: dated at the second.
    assert bvas_relapse_dates([(d[0], counts(0, 1)), (d[1], counts(0, 2))]) == [d[1]]
    assert bvas_relapse_dates([(d[0], counts(0, 1)), (d[1], counts()), (d[2], counts(0, 1))]) == []
    assert bvas_relapse_dates(
        [(d[0], counts(0, 1)), (d[1], counts(0, 1)), (d[2], counts(0, 1))]
    ) == [
        d[1],
        d[2],
    ]


def test_bvas_relapse_persistent_at_the_second_visit_confirms_it():
    # Digest, A-AAV-4: "1–2 new items at two consecutive assessments"; issue 18: count
    # new-or-persistent at the second visit.
    d = [date(2026, 1, day) for day in (1, 2, 3, 4)]
    a = BvasItem("Arthralgia or arthritis", False, True)
    a_persists = BvasItem("Arthralgia or arthritis", False, False)
    b_persists = BvasItem("Myalgia", False, False)

    def visit(on, *items):
        return (on, bvas_counts(items), items)

    assert bvas_relapse_dates([visit(d[0], a), visit(d[1], a_persists)]) == [d[1]]
    # Still there at a third visit: the same relapse, not a new one.
    assert bvas_relapse_dates(
        [visit(d[0], a), visit(d[1], a_persists), visit(d[2], a_persists)]
    ) == [d[1]]
    # Persistent at the second visit but not one of the items new at the first.
    assert bvas_relapse_dates([visit(d[0], a, b_persists), visit(d[1], b_persists)]) == []
    # With counts alone every persistent item counts at the second visit.
    assert bvas_relapse_dates([(d[0], counts(0, 1)), (d[1], counts(0, 1, new=False))]) == [d[1]]
    # A relapse dated by a new major item is not re-dated while the item persists.
    m = BvasItem("Mononeuritis multiplex", True, True)
    m_persists = BvasItem("Mononeuritis multiplex", True, False)
    assert bvas_relapse_dates([visit(d[0], m), visit(d[1], m_persists)]) == [d[0]]


# --- ESSDAI ----------------------------------------------------------------------------


def test_essdai_weights_and_maximum():
    weights = {domain: weight for domain, (weight, _) in ESSDAI_DOMAINS.items()}
    assert weights == {
        "constitutional": 3,
        "lymphadenopathy": 4,
        "glandular": 2,
        "articular": 2,
        "cutaneous": 3,
        "pulmonary": 5,
        "renal": 5,
        "muscular": 6,
        "peripheral_nervous_system": 5,
        "central_nervous_system": 5,
        "haematological": 2,
        "biological": 1,
    }
    highest = {domain: max(levels) for domain, (_, levels) in ESSDAI_DOMAINS.items()}
    assert essdai(highest).total == 123


def test_essdai_worked_example():
    score = essdai({"glandular": 1, "articular": 2, "biological": 2})
    assert score.total == 2 + 4 + 2
    assert score.domain_scores == {"glandular": 2, "articular": 4, "biological": 2}
    assert len(score.missing_domains) == 9


@pytest.mark.parametrize(
    "levels",
    [
        {"central_nervous_system": 1},
        {"constitutional": 3},
        {"glandular": 3},
        {"biological": 3},
        {"renal": 4},
        {"renal": True},
        {"skin": 1},
    ],
)
def test_essdai_validates_levels_per_domain(levels):
    with pytest.raises(CalculatorError):
        essdai(levels)


# --- MMT-8 -----------------------------------------------------------------------------

FULL_MMT8 = {
    "neck_flexors": 10,
    **{
        group: {"left": 10, "right": 10}
        for group in (
            "deltoid",
            "biceps",
            "wrist_extensors",
            "gluteus_maximus",
            "gluteus_medius",
            "quadriceps",
            "ankle_dorsiflexors",
        )
    },
}


def test_mmt8_is_out_of_150():
    assert mmt8_total(FULL_MMT8) == 150
    weaker = {**FULL_MMT8, "neck_flexors": 8, "quadriceps": {"left": 6, "right": 7}}
    assert mmt8_total(weaker) == 150 - 2 - 7


@pytest.mark.parametrize(
    "change",
    [
        {"neck_flexors": 11},
        {"neck_flexors": -1},
        {"neck_flexors": 9.5},
        {"biceps": {"left": 10}},
        {"biceps": 20},
        {"hand_grip": 10},
    ],
)
def test_mmt8_validates_groups_and_grades(change):
    with pytest.raises(CalculatorError):
        mmt8_total({**FULL_MMT8, **change})
    with pytest.raises(CalculatorError):
        mmt8_total({k: v for k, v in FULL_MMT8.items() if k != "deltoid"})


# --- HAQ-DI ----------------------------------------------------------------------------


def test_haq_di_is_the_mean_of_the_categories():
    scores = dict.fromkeys(HAQ_DI_CATEGORIES, 0) | {"walking": 2}
    assert haq_di(scores) == D("0.25")
    assert haq_di(dict.fromkeys(HAQ_DI_CATEGORIES, 3)) == 3
    six = {c: 1 for c in HAQ_DI_CATEGORIES[:6]}
    assert haq_di(six) == 1


def test_haq_di_aids_raise_a_category_to_2():
    scores = dict.fromkeys(HAQ_DI_CATEGORIES, 1)
    assert haq_di(scores, aids_or_help=["walking", "grip"]) == D("1.25")
    assert haq_di(dict.fromkeys(HAQ_DI_CATEGORIES, 3), ["walking"]) == 3


@pytest.mark.parametrize(
    "scores",
    [
        {c: 1 for c in HAQ_DI_CATEGORIES[:5]},  # fewer than 6 categories
        dict.fromkeys(HAQ_DI_CATEGORIES, 4),
        dict.fromkeys(HAQ_DI_CATEGORIES, 1) | {"sleeping": 1},
    ],
)
def test_haq_di_validates(scores):
    with pytest.raises(CalculatorError):
        haq_di(scores)


# --- VAS, ULN multiples, relative change -----------------------------------------------


@pytest.mark.parametrize("value", [D(0), D("1.9"), D(10)])
def test_vas_accepts_0_to_10(value):
    assert validate_vas(value) == value


@pytest.mark.parametrize("value", [D("-0.1"), D("10.1"), D("NaN"), 5])
def test_vas_rejects_outside_0_to_10(value):
    with pytest.raises(CalculatorError):
        validate_vas(value)


def test_uln_multiples_are_exact():
    assert within_uln_multiple(D("1.8"), D("1.2"), D("1.5"))
    assert not within_uln_multiple(D("1.81"), D("1.2"), D("1.5"))
    assert not exceeds_uln_multiple(D(255), D(170), D("1.5"))
    assert exceeds_uln_multiple(D("255.1"), D(170), D("1.5"))
    assert uln_multiple(D(340), D(170)) == 2
    assert 1.5 * 1.2 != 1.8  # why the engine never uses floats


def test_relative_change():
    assert relative_change(D(20), D(22)) == D("0.1")
    assert relative_change(D(20), D("21.98")) == D("0.099")
    assert relative_change(D(80), D(72)) == D("-0.1")
    assert relative_change(D(60), D(51)) == D("-0.15")
    with pytest.raises(CalculatorError):
        relative_change(D(0), D(1))


# --- Cockcroft–Gault -------------------------------------------------------------------


def test_cockcroft_gault_worked_examples():
    assert cockcroft_gault(
        age_years=50, weight_kg=D(48), creatinine_mg_per_dl=D(2), female=False
    ) == D(30)
    assert cockcroft_gault(
        age_years=40, weight_kg=D(72), creatinine_mg_per_dl=D(1), female=True
    ) == D(85)
    assert cockcroft_gault_umol(
        age_years=50, weight_kg=D(48), creatinine_umol_per_l=D("176.8"), female=False
    ) == D(30)


def test_cockcroft_gault_needs_a_positive_creatinine():
    with pytest.raises(CalculatorError):
        cockcroft_gault(age_years=50, weight_kg=D(48), creatinine_mg_per_dl=D(0), female=False)


# --- Glucocorticoids and dose ceilings -------------------------------------------------


@pytest.mark.parametrize(
    ("drug", "dose", "prednisone"),
    [
        ("prednisone", "5", "5"),
        ("prednisolone", "5", "5"),
        ("methylprednisolone", "4", "5"),
        ("hydrocortisone", "20", "5"),
        ("dexamethasone", "0.75", "5"),
        ("betamethasone", "0.6", "5"),
        ("deflazacort", "6", "5"),
        ("methylprednisolone", "16", "20"),
        ("dexamethasone", "3", "20"),
    ],
)
def test_prednisone_equivalents(drug, dose, prednisone):
    assert prednisone_equivalent_mg(drug, D(dose)) == D(prednisone)


def test_prednisone_equivalent_of_a_non_glucocorticoid_is_an_error():
    with pytest.raises(CalculatorError):
        prednisone_equivalent_mg("azathioprine", D(50))


CEILINGS = PROTOCOLS["1.0"].sle_dose_ceilings


@pytest.mark.parametrize(
    ("drug", "value", "unit", "weight", "within"),
    [
        ("prednisone", "20", "mg/day", None, True),
        ("prednisone", "20.01", "mg/day", None, False),
        ("hydroxychloroquine", "400", "mg/day", None, True),
        ("hydroxychloroquine", "0.4", "g/day", None, True),
        ("chloroquine", "500", "mg/day", None, True),
        ("mycophenolate_mofetil", "2", "g/day", None, True),
        ("mycophenolate_mofetil", "2001", "mg/day", None, False),
        ("azathioprine", "2", "mg/kg/day", None, True),
        ("azathioprine", "120", "mg/day", "60", True),
        ("azathioprine", "121", "mg/day", "60", False),
        ("azathioprine", "100", "mg/day", None, None),
        ("methotrexate", "20", "mg/week", None, True),
        ("methotrexate", "25", "mg/week", None, False),
        ("rituximab", "1000", "mg", None, True),
    ],
)
def test_standard_dose_ceilings(drug, value, unit, weight, within):
    result = standard_dose_check(
        drug, D(value), unit, CEILINGS, weight_kg=D(weight) if weight else None
    )
    assert result.within is within


# --- Calendar periods ------------------------------------------------------------------


def test_months_are_calendar_months_clamped_to_month_end():
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    six = Period(6, "months")
    assert six.spans(date(2025, 9, 2), date(2026, 3, 2))
    assert not six.spans(date(2025, 9, 3), date(2026, 3, 2))
    assert Period(12, "weeks").before(date(2026, 5, 20)) == date(2026, 2, 25)
