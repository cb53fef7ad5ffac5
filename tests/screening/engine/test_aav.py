"""A-AAV-1..4 (ANCA-associated vasculitis). Screening date 2026-05-20."""

import pytest

from . import make_case as case

# --- A-AAV-1 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("diagnosis", "status"),
    [("GPA", "met"), ("MPA", "met"), ("EGPA", "not_met"), ("other", "not_met")],
)
def test_it_accepts_gpa_or_mpa(diagnosis, status):
    assert case("AAV").set("aav.chcc_2012_diagnosis", diagnosis).status("A-AAV-1") == status


def test_it_is_unknown_without_a_diagnosis():
    c = case("AAV").delete("aav.chcc_2012_diagnosis")
    assert c.status("A-AAV-1") == "unknown"
    assert c.missing_fields("A-AAV-1") == ["aav.chcc_2012_diagnosis"]


# --- A-AAV-2: BVAS v3 ≥ 1 major or ≥ 3 other items ------------------------------------


def items(major=0, other=0, new=True):
    return [{"item": f"major {i}", "major": True, "new": new} for i in range(major)] + [
        {"item": f"other {i}", "major": False, "new": new} for i in range(other)
    ]


@pytest.mark.parametrize(
    ("major", "other", "status"),
    [(1, 0, "met"), (0, 3, "met"), (0, 2, "not_met"), (0, 0, "not_met")],
)
def test_it_counts_major_and_other_items_at_screening(major, other, status):
    c = case("AAV").set("aav.bvas_assessments.3.items", items(major, other, new=False))
    assert c.status("A-AAV-2") == status


def test_it_uses_the_latest_assessment_in_the_window():
    c = case("AAV")
    assessments = c.doc["aav"]["bvas_assessments"]
    assessments.append({"date": c.days_before(2), "items": []})
    assert c.status("A-AAV-2") == "not_met"


def test_it_is_unknown_when_the_latest_assessment_is_stale():
    c = case("AAV").set("aav.bvas_assessments.3.date", "2026-04-20")
    result = c.result("A-AAV-2")
    assert result.status.value == "unknown"
    assert result.missing[0].field == "aav.bvas_assessments"
    assert result.missing[0].reason.render().startswith("stale: observed 2026-04-20")


def test_an_assessment_after_screening_is_unusable():
    c = case("AAV")
    c.set("aav.bvas_assessments", [{"date": c.days_before(-3), "items": items(1)}])
    assert c.status("A-AAV-2") == "unknown"


# --- A-AAV-3: PR3- or MPO-ANCA positive during screening -------------------------------


@pytest.mark.parametrize(
    ("pr3", "mpo", "status"),
    [
        ("positive", "negative", "met"),
        ("negative", "positive", "met"),
        ("negative", "negative", "not_met"),
    ],
)
def test_it_needs_one_positive_anca(pr3, mpo, status):
    c = case("AAV").set("aav.anca.pr3.result", pr3).set("aav.anca.mpo.result", mpo)
    assert c.status("A-AAV-3") == status


def test_it_is_unknown_when_the_undecided_anca_is_missing_or_stale():
    c = case("AAV").set("aav.anca.pr3.result", "negative").delete("aav.anca.mpo")
    assert c.missing_fields("A-AAV-3") == ["aav.anca.mpo"]
    c = case("AAV").set("aav.anca.mpo.result", "negative")
    c.set("aav.anca.pr3.date", c.days_before(30))
    assert c.status("A-AAV-3") == "unknown"


# --- A-AAV-4: relapsing or refractory -------------------------------------------------


def relapse_on(c, on, relapse_items=None):
    c.set(
        "aav.bvas_assessments",
        [
            {"date": "2025-06-20", "items": []},
            {"date": on, "items": relapse_items if relapse_items is not None else items(1)},
            {"date": "2026-05-12", "items": items(1, new=False)},
        ],
    )
    return c


@pytest.mark.parametrize(("on", "status"), [("2026-02-25", "met"), ("2026-02-24", "not_met")])
def test_a_relapse_must_fall_within_12_weeks_before_screening(on, status):
    # 12 weeks = 84 days before 2026-05-20 is 2026-02-25, inclusive.
    result = relapse_on(case("AAV"), on).result("A-AAV-4")
    assert result.status.value == status
    if status == "not_met":
        assert "last relapse on 2026-02-24, more than 12 weeks before screening" in result.reason


@pytest.mark.parametrize(
    ("relapse_items", "status"),
    [
        (items(1), "met"),  # one new major item
        (items(0, 3), "met"),  # three new other items
        (items(0, 2), "not_met"),  # two new other items, once
        (items(1, new=False), "not_met"),  # persistent items are not a relapse
    ],
)
def test_it_applies_the_relapse_definition(relapse_items, status):
    c = relapse_on(case("AAV"), "2026-04-02", relapse_items)
    assert c.status("A-AAV-4") == status


def test_one_or_two_new_items_at_two_consecutive_assessments_are_a_relapse():
    c = case("AAV")
    c.set(
        "aav.bvas_assessments",
        [
            {"date": "2025-06-20", "items": []},
            {"date": "2026-03-01", "items": items(0, 2)},
            {"date": "2026-04-01", "items": items(0, 1)},
            {"date": "2026-05-12", "items": items(1, new=False)},
        ],
    )
    result = c.result("A-AAV-4")
    assert result.status.value == "met"
    assert "relapse on 2026-04-01" in result.reason  # dated at the second assessment
    c.set("aav.bvas_assessments.2.items", [])  # not consecutive any more
    assert c.status("A-AAV-4") == "not_met"


@pytest.mark.parametrize(
    ("second_visit", "status"),
    [
        ([{"item": "Arthralgia or arthritis", "major": False, "new": False}], "met"),
        ([{"item": "Arthralgia or arthritis", "major": False, "new": True}], "met"),
        ([{"item": "Myalgia", "major": False, "new": False}], "not_met"),  # not the new one
        ([], "not_met"),
    ],
)
def test_a_aav_4_new_item_persistent_at_the_second_visit_is_a_relapse(second_visit, status):
    # Digest, A-AAV-4: "1–2 new items at two consecutive assessments"; issue 18: an item
    # new at the first visit and scored persistent at the second is that relapse
    # confirmed (count new-or-persistent at the second visit).
    c = case("AAV")
    c.set(
        "aav.bvas_assessments",
        [
            {"date": "2025-06-20", "items": []},
            {
                "date": "2026-03-20",
                "items": [{"item": "Arthralgia or arthritis", "major": False, "new": True}],
            },
            {"date": "2026-04-20", "items": second_visit},
            {"date": "2026-05-12", "items": items(1, new=False)},
        ],
    )
    result = c.result("A-AAV-4")
    assert result.status.value == status
    if status == "met":
        assert "relapse on 2026-04-20, within 12 weeks before screening" in result.reason
    else:
        assert "no relapse in the BVAS assessments after the response" in result.reason


@pytest.mark.parametrize(
    ("drug", "dose", "branch"),
    [
        ("prednisone", 7.5, "relapsing"),
        ("methylprednisolone", 6, "relapsing"),  # = 7.5 mg prednisone
        ("prednisone", 8, "refractory"),  # BVAS 0 on 8 mg/day is not the defined response
    ],
)
def test_a_response_needs_glucocorticoid_at_most_7_5_mg(drug, dose, branch):
    c = case("AAV").set(
        "aav.response.glucocorticoid", {"drug": drug, "dose": {"value": dose, "unit": "mg/day"}}
    )
    result = c.result("A-AAV-4")
    assert result.status.value == "met"
    assert ("relapse on 2026-04-02" in result.reason) == (branch == "relapsing")
    if branch == "refractory":
        assert "(= 8 mg/day prednisone-equivalent) > 7.5 mg/day" in result.reason


def test_a_response_needs_bvas_0():
    c = case("AAV").set("aav.response.bvas", 1)
    result = c.result("A-AAV-4")
    assert "BVAS at response 1 > 0" in result.reason
    assert "relapse on" not in result.reason  # judged as refractory instead


@pytest.mark.parametrize(
    ("response_on", "status"), [("2025-04-10", "met"), ("2025-04-09", "not_met")]
)
def test_the_response_follows_three_months_of_combined_treatment(response_on, status):
    # Prednisone from 2025-01-05, rituximab from 2025-01-10: together from 2025-01-10.
    c = case("AAV").set("aav.response.date", response_on)
    assert c.status("A-AAV-4") == status


@pytest.mark.parametrize(("start", "status"), [("2026-02-20", "met"), ("2026-02-21", "not_met")])
def test_refractory_needs_three_months_of_combined_treatment(start, status):
    c = case("AAV").set("aav.response", {"achieved": False})
    c.set(
        "treatment_history",
        [
            {"drug": "prednisone", "dose": {"value": 20, "unit": "mg/day"}, "start": "2025-12-01"},
            {"drug": "methotrexate", "dose": {"value": 20, "unit": "mg/week"}, "start": start},
        ],
    )
    result = c.result("A-AAV-4")
    assert result.status.value == status
    assert "never achieved" in result.reason


def test_glucocorticoid_alone_is_not_combined_treatment():
    c = case("AAV").set("aav.response", {"achieved": False})
    c.set("treatment_history", [{"drug": "prednisone", "start": "2024-01-01"}])
    assert c.status("A-AAV-4") == "not_met"


def test_it_is_unknown_without_the_response_or_the_history():
    c = case("AAV").delete("aav.response")
    assert c.status("A-AAV-4") == "unknown"
    assert "aav.response" in c.missing_fields("A-AAV-4")
    c = case("AAV").delete("treatment_history")
    assert c.missing_fields("A-AAV-4") == ["treatment_history"]
    c = case("AAV").delete("aav.response.date")
    assert c.status("A-AAV-4") == "unknown"
    assert "aav.response.date" in c.missing_fields("A-AAV-4")


# --- BVAS v3 major items are fixed by the instrument (A-AAV-2, A-AAV-4) ----------------


def named(*names, major=False, new=True):
    return [{"item": name, "major": major, "new": new} for name in names]


@pytest.mark.parametrize(
    "item",
    [
        "Gangrene",
        "Retinal changes",
        "Sensorineural hearing loss",
        "Massive haemoptysis or alveolar haemorrhage",
        "Respiratory failure",
        "Ischaemic abdominal pain",
        "Rise in serum creatinine > 30% or fall in CrCl > 25%",
        "Cerebrovascular accident",
        "Spinal cord lesion",
        "Cranial nerve palsy",
        "Mononeuritis multiplex",
    ],
)
def test_a_fixed_major_item_is_major_even_when_not_ticked(item):
    c = case("AAV").set("aav.bvas_assessments.3.items", named(item, major=False, new=False))
    result = c.result("A-AAV-2")
    assert result.status.value == "met"
    assert result.values["bvas_major_items"] == 1
    assert result.values["bvas_other_items"] == 0


def test_a_minor_item_ticked_major_does_not_count_as_major():
    c = case("AAV").set(
        "aav.bvas_assessments.3.items", named("Myalgia", "Fever ≥ 38.0 °C", major=True)
    )
    result = c.result("A-AAV-2")
    assert result.status.value == "not_met"
    assert result.values["bvas_major_items"] == 0
    assert result.values["bvas_other_items"] == 2


@pytest.mark.parametrize(("ticked", "status"), [(True, "met"), (False, "not_met")])
def test_an_item_whose_major_status_is_uncertain_keeps_the_assessors_tick(ticked, status):
    # Scleritis (major in BVAS/WG) and episcleritis (not) share one BVAS v3 item.
    c = case("AAV").set(
        "aav.bvas_assessments.3.items", named("Scleritis or episcleritis", major=ticked)
    )
    assert c.status("A-AAV-2") == status


def test_a_relapse_with_an_unticked_fixed_major_item_is_a_relapse():
    # One new item, once, is a relapse only because gangrene is major by the instrument.
    c = relapse_on(case("AAV"), "2026-04-02", named("Gangrene", major=False))
    assert c.status("A-AAV-4") == "met"
    c = relapse_on(case("AAV"), "2026-04-02", named("Purpura", major=True))
    assert c.status("A-AAV-4") == "not_met"
