"""Every dated screening observation: absent → unknown ("missing"); older than the
28-day window → unknown ("stale: …"); dated after screening → unknown ("unusable: …").
Never silently met or not met. Each case first makes the observation decisive."""

import pytest

from . import make_case as case

# (indication, rule, path of the observation, path of its date, setup making it decisive)
OBSERVATIONS = [
    ("SLE", "A-GEN-4", "general.pregnancy_test", "general.pregnancy_test.date", None),
    ("SLE", "A-SLE-2", "sle.ana", "sle.ana.date", "sle_only_ana"),
    ("SLE", "A-SLE-3", "sle.sledai_2k", "sle.sledai_2k.date", None),
    (
        "dcSSc",
        "A-SSC-2",
        "dcssc.fvc_percent_predicted",
        "dcssc.fvc_percent_predicted.0.date",
        "ssc_only_fvc",
    ),
    ("AAV", "A-AAV-2", "aav.bvas_assessments", "aav.bvas_assessments.0.date", "one_bvas"),
    ("AAV", "A-AAV-3", "aav.anca.pr3", "aav.anca.pr3.date", None),
    ("IIM", "A-IIM-2", "iim.mmt8", "iim.mmt8.date", None),
    ("IIM", "A-IIM-3", "iim.patient_global_vas", "iim.patient_global_vas.date", "iim_two_measures"),
    ("SS", "A-SS-2", "ss.anti_ro_ssa", "ss.anti_ro_ssa.date", None),
    (
        "SS",
        "A-SS-3",
        "ss.stimulated_whole_saliva_ml_per_min",
        "ss.stimulated_whole_saliva_ml_per_min.date",
        None,
    ),
    ("SS", "A-SS-4", "ss.essdai", "ss.essdai.date", None),
    ("SLE", "A-ORG-1", "labs.anc", "labs.anc.date", None),
    ("SLE", "A-ORG-2", "labs.aptt", "labs.aptt.date", None),
    ("SLE", "A-ORG-3", "labs.total_bilirubin", "labs.total_bilirubin.date", None),
    ("SLE", "A-ORG-4", "labs.creatinine", "labs.creatinine.date", None),
    ("SLE", "A-ORG-5", "organ_function.lvef_percent", "organ_function.lvef_percent.date", None),
    (
        "SLE",
        "A-ORG-5",
        "organ_function.ecg_significant_abnormality",
        "organ_function.ecg_significant_abnormality.date",
        None,
    ),
    (
        "SLE",
        "A-ORG-6",
        "organ_function.pleural_effusion_significant",
        "organ_function.pleural_effusion_significant.date",
        None,
    ),
]


def decisive(c, setup):
    if setup == "sle_only_ana":
        c.set("sle.anti_dsdna.result", "negative")
    elif setup == "ssc_only_fvc":
        c.set("dcssc.fvc_percent_predicted", [{"value": 60, "date": c.days_before(7)}])
        c.set("dcssc.dlco_percent_predicted", [])
    elif setup == "one_bvas":
        c.set("aav.bvas_assessments", c.doc["aav"]["bvas_assessments"][-1:])
    elif setup == "iim_two_measures":
        c.observed("iim.physician_global_vas", 5).observed("iim.extramuscular_vas", 1)
        c.set("iim.haq_di", {"date": c.days_before(1), "value": 0})
        # Normal, and plausible values and ULNs (C-UNIT-1).
        for enzyme, value, uln in (
            ("ck", 80, 170),
            ("ldh", 150, 250),
            ("aldolase", 4, 8),
            ("ast", 20, 40),
            ("alt", 20, 40),
        ):
            c.lab(enzyme, value, "U/L", uln=uln)
        c.observed("iim.patient_global_vas", 5)
    return c


def prepared(indication, rule, setup):
    c = decisive(case(indication), setup)
    if rule == "A-SS-3":
        c.delete("ss.unstimulated_whole_saliva_ml_per_min")
    assert c.status(rule) == "met"
    return c


IDS = [f"{rule}:{path}" for _, rule, path, _, _ in OBSERVATIONS]


@pytest.mark.parametrize(
    ("indication", "rule", "path", "date_path", "setup"), OBSERVATIONS, ids=IDS
)
def test_a_missing_observation_is_unknown(indication, rule, path, date_path, setup):
    c = prepared(indication, rule, setup).delete(path)
    result = c.result(rule)
    assert result.status.value == "unknown"
    assert (path, "missing") in [(m.field, m.reason.render()) for m in result.missing]


@pytest.mark.parametrize(
    ("indication", "rule", "path", "date_path", "setup"), OBSERVATIONS, ids=IDS
)
def test_a_stale_observation_is_unknown(indication, rule, path, date_path, setup):
    c = prepared(indication, rule, setup)
    c.set(date_path, c.days_before(28))
    assert c.status(rule) == "met"  # 28 days old: still inside the window
    c.set(date_path, c.days_before(29))
    result = c.result(rule)
    assert result.status.value == "unknown"
    [reason] = [m.reason.render() for m in result.missing if m.field == path]
    assert reason == (f"stale: observed {c.days_before(29)}, older than 28-day screening window")


@pytest.mark.parametrize(
    ("indication", "rule", "path", "date_path", "setup"), OBSERVATIONS, ids=IDS
)
def test_an_observation_after_screening_is_unknown(indication, rule, path, date_path, setup):
    c = prepared(indication, rule, setup)
    c.set(date_path, c.days_before(-1))
    result = c.result(rule)
    assert result.status.value == "unknown"
    [reason] = [m.reason.render() for m in result.missing if m.field == path]
    assert reason.startswith(f"unusable: observed {c.days_before(-1)}, after the screening date")
