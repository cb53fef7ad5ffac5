"""A-IIM-1..3 (idiopathic inflammatory myopathy). Screening date 2026-06-08."""

import pytest

from screening.engine import validate_facts

from . import make_case as case

# --- A-IIM-1 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probability", "subtype", "status"),
    [
        (55, "DM", "met"),
        (54.9, "DM", "not_met"),
        (90, "PM", "met"),
        (90, "IMNM", "met"),
        (90, "IBM", "not_met"),
        (90, "ADM", "not_met"),
    ],
)
def test_it_needs_probability_55_and_a_listed_subtype(probability, subtype, status):
    c = case("IIM").set("iim.classification_probability_percent", probability)
    c.set("iim.subtype", subtype)
    assert c.status("A-IIM-1") == status


def test_it_is_unknown_without_probability_or_subtype():
    c = case("IIM").delete("iim.classification_probability_percent")
    assert c.status("A-IIM-1") == "unknown"
    assert c.missing_fields("A-IIM-1") == ["iim.classification_probability_percent"]
    c = case("IIM").delete("iim.subtype")
    assert c.status("A-IIM-1") == "unknown"
    assert c.missing_fields("A-IIM-1") == ["iim.subtype"]


# --- A-IIM-2: MMT-8 ≤ 141 / 150 --------------------------------------------------------


@pytest.mark.parametrize(("total", "status"), [(141, "met"), (142, "not_met")])
def test_it_needs_mmt8_at_most_141(total, status):
    c = case("IIM").set("iim.mmt8", {"date": "2026-06-02", "total": total})
    result = c.result("A-IIM-2")
    assert result.status.value == status
    assert result.reason == f"MMT-8 {total}/150 {'≤' if status == 'met' else '>'} 141"


def test_it_adds_up_the_group_scores():
    result = case("IIM").result("A-IIM-2")
    assert result.values["mmt8"] == 116


def test_it_rejects_an_incomplete_or_out_of_range_mmt8():
    c = case("IIM").delete("iim.mmt8.scores.biceps")
    assert [e.path for e in validate_facts(c.doc)] == ["iim.mmt8.scores"]
    c = case("IIM").set("iim.mmt8.scores.neck_flexors", 11)
    assert [e.path for e in validate_facts(c.doc)] == ["iim.mmt8.scores.neck_flexors"]
    c = case("IIM").set("iim.mmt8.total", 117)
    assert [e.path for e in validate_facts(c.doc)] == ["iim.mmt8.total"]


def test_it_is_unknown_with_a_stale_mmt8():
    c = case("IIM").set("iim.mmt8.date", "2026-05-01")
    assert c.status("A-IIM-2") == "unknown"
    assert c.missing_fields("A-IIM-2") == ["iim.mmt8"]


# --- A-IIM-3: ≥ 2 of patient VAS, physician VAS, extramuscular VAS, HAQ-DI, enzyme -----


def normal(c):
    """Every other core set measure normal (each enzyme at most 1.5 × ULN)."""
    c.observed("iim.patient_global_vas", 1)
    c.observed("iim.physician_global_vas", 1)
    c.observed("iim.extramuscular_vas", 1)
    c.set("iim.haq_di", {"date": c.days_before(1), "value": 0})
    c.lab("ck", 255, "U/L", uln=170)  # exactly 1.5 × ULN: not above
    c.lab("ldh", 375, "U/L", uln=250)
    c.lab("aldolase", 11.4, "U/L", uln=7.6)
    c.lab("ast", 60, "U/L", uln=40)
    c.lab("alt", 60, "U/L", uln=40)
    return c


def test_none_abnormal_fails():
    result = normal(case("IIM")).result("A-IIM-3")
    assert result.status.value == "not_met"
    assert result.reason.startswith("0 of 5 other core set measures abnormal (2 needed)")
    assert "CK 255 U/L ≤ 1.5 × ULN 170 U/L (= 255 U/L)" in result.reason


@pytest.mark.parametrize(
    ("path", "value", "status"),
    [
        ("iim.physician_global_vas", 1.9, "not_met"),
        ("iim.physician_global_vas", 2, "met"),
        ("iim.extramuscular_vas", 1.9, "not_met"),
        ("iim.extramuscular_vas", 2, "met"),
        ("iim.haq_di", 0.24, "not_met"),
        ("iim.haq_di", 0.25, "met"),
    ],
)
def test_each_measure_counts_at_its_threshold(path, value, status):
    c = normal(case("IIM")).observed("iim.patient_global_vas", 2)  # one abnormal already
    if path == "iim.haq_di":
        c.set(path, {"date": c.days_before(1), "value": value})
    else:
        c.observed(path, value)
    assert c.status("A-IIM-3") == status


@pytest.mark.parametrize(("value", "status"), [(1.9, "not_met"), (2, "met")])
def test_patient_vas_counts_from_2(value, status):
    c = normal(case("IIM")).observed("iim.physician_global_vas", 5)
    c.observed("iim.patient_global_vas", value)
    assert c.status("A-IIM-3") == status


@pytest.mark.parametrize(
    ("enzyme", "value", "uln"),
    [
        ("ck", 255.1, 170),
        ("ldh", 375.1, 250),
        ("aldolase", 11.5, 7.6),
        ("ast", 61, 40),
        ("alt", 61, 40),
    ],
)
def test_any_enzyme_strictly_above_1_5_uln_counts(enzyme, value, uln):
    c = normal(case("IIM")).observed("iim.patient_global_vas", 3)
    assert c.status("A-IIM-3") == "not_met"
    c.lab(enzyme, value, "U/L", uln=uln)
    assert c.status("A-IIM-3") == "met"


def test_haq_di_from_categories():
    c = normal(case("IIM")).observed("iim.patient_global_vas", 3)
    categories = dict.fromkeys(
        [
            "dressing_grooming",
            "arising",
            "eating",
            "walking",
            "hygiene",
            "reach",
            "grip",
            "activities",
        ],
        0,
    )
    c.set("iim.haq_di", {"date": c.days_before(1), "categories": {**categories, "walking": 2}})
    assert c.status("A-IIM-3") == "met"  # 2 / 8 = 0.25
    c.set("iim.haq_di.categories.walking", 1)
    assert c.status("A-IIM-3") == "not_met"  # 0.125
    c.set("iim.haq_di.aids_or_help", ["walking"])
    assert c.status("A-IIM-3") == "met"  # an aid raises walking to 2


def test_it_is_unknown_when_a_missing_measure_could_decide():
    c = normal(case("IIM")).observed("iim.patient_global_vas", 3).delete("iim.extramuscular_vas")
    result = c.result("A-IIM-3")
    assert result.status.value == "unknown"
    assert [m.field for m in result.missing] == ["iim.extramuscular_vas"]


def test_an_enzyme_without_uln_leaves_the_enzyme_measure_open():
    c = normal(case("IIM")).observed("iim.patient_global_vas", 3)
    c.lab("aldolase", 9, "U/L")
    result = c.result("A-IIM-3")
    assert result.status.value == "unknown"
    assert [(m.field, m.reason.render()) for m in result.missing] == [
        ("labs.aldolase.uln", "no ULN for the reporting lab")
    ]


def test_it_fails_when_the_missing_measures_could_not_reach_two():
    c = normal(case("IIM")).delete("iim.extramuscular_vas")
    assert c.status("A-IIM-3") == "not_met"  # 0 abnormal + 1 unknown < 2
    c.delete("iim.physician_global_vas")
    result = c.result("A-IIM-3")
    assert result.status.value == "unknown"  # 0 abnormal + 2 unknown could still be 2
    assert {m.field for m in result.missing} == {
        "iim.extramuscular_vas",
        "iim.physician_global_vas",
    }


def test_it_rejects_a_vas_out_of_range():
    c = case("IIM").observed("iim.patient_global_vas", 10.5)
    assert [e.path for e in validate_facts(c.doc)] == ["iim.patient_global_vas.value"]
