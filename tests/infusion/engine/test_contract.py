"""The JSON contract: schema, validation, parsing and the worked example."""

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from infusion.engine import (
    PlanInputError,
    build_plan,
    parse_plan_input,
    plan_from_document,
    plan_from_json,
    plan_input_schema,
    plan_to_text,
    validate_plan_input,
)

from . import EXAMPLE_INPUT, EXAMPLES_DIR, example_doc


def errors_at(doc):
    return {e.path: e.message for e in validate_plan_input(doc)}


# --- The worked example ----------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(plan_input_schema())


def test_the_worked_example_validates_and_produces_the_expected_output():
    doc = json.loads(EXAMPLE_INPUT.read_text(encoding="utf-8"))
    assert validate_plan_input(doc) == []
    plan = build_plan(parse_plan_input(doc))
    expected = json.loads(
        (EXAMPLES_DIR / "lupus-nephritis.expected.json").read_text(encoding="utf-8")
    )
    assert json.loads(json.dumps(plan.to_dict())) == expected
    assert plan_to_text(plan) == (EXAMPLES_DIR / "lupus-nephritis.expected.txt").read_text(
        encoding="utf-8"
    )


def test_plan_from_json_keeps_decimals_exact():
    plan, errors = plan_from_json(EXAMPLE_INPUT.read_bytes())
    assert errors == []
    assert plan.dose.weight_kg == Decimal("58.5")


def test_plan_from_json_reports_broken_json():
    plan, errors = plan_from_json(b"{not json")
    assert plan is None
    assert errors[0].path == "" and "not valid JSON" in errors[0].message


def test_plan_from_json_reports_json_nested_too_deeply():
    # json.loads raises RecursionError (not ValueError) past Python's recursion limit.
    plan, errors = plan_from_json("[" * 100_000 + "]" * 100_000)
    assert plan is None
    assert [(e.path, e.message) for e in errors] == [("", "not valid JSON: nested too deeply")]


# --- Field errors ----------------------------------------------------------------------


@pytest.mark.parametrize("root", [None, [], "plan", 3, True, {}])
def test_a_non_document_gives_field_errors(root):
    errors = validate_plan_input(root)
    assert errors
    assert all(isinstance(e.path, str) and e.message for e in errors)


def test_missing_required_fields_are_named():
    doc = example_doc()
    del doc["patient"]["weight"]["kg"]
    del doc["order"]["planned_start"]
    errors = errors_at(doc)
    assert errors["patient.weight.kg"] == "is required"
    assert errors["order.planned_start"] == "is required"


def test_unknown_fields_are_refused():
    doc = example_doc()
    doc["patient"]["pregant"] = True
    assert errors_at(doc) == {"patient.pregant": "unknown field"}


@pytest.mark.parametrize(
    "value",
    ["2024-06-12T09:30:00", "2024-06-12 09:30", "2024-06-12"],
)
def test_naive_datetimes_are_refused_with_a_clear_message(value):
    doc = example_doc()
    doc["order"]["planned_start"] = value
    message = errors_at(doc)["order.planned_start"]
    assert "UTC offset" in message


def test_an_impossible_datetime_is_refused():
    doc = example_doc()
    doc["product"]["preparation_time"] = "2024-02-30T07:30:00+08:00"
    assert "product.preparation_time" in errors_at(doc)


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "../../etc/passwd", "Asia/Shanghai ", "x" * 64]
)
def test_unknown_time_zones_are_refused(zone):
    doc = example_doc()
    doc["ward_time_zone"] = zone
    assert "Unknown time zone" in errors_at(doc)["ward_time_zone"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("58.5", True),
        (58.5, True),
        (58, True),
        ("0", False),
        ("-1", False),
        ("abc", False),
        (True, False),
        ("1e2", False),
        (1e-300, False),
        ("501", False),
        (None, False),
    ],
)
def test_weight_must_be_a_positive_decimal(value, ok):
    doc = example_doc()
    doc["patient"]["weight"]["kg"] = value
    assert ("patient.weight.kg" not in errors_at(doc)) is ok


@pytest.mark.parametrize(
    ("dose", "ok"),
    [("74", False), ("75", True), ("100", True), ("101", False), (74.5, False), (100, True)],
)
def test_antiplatelet_dose_must_be_75_to_100_mg(dose, ok):
    doc = example_doc()
    doc["order"]["antiplatelet"]["dose_mg"] = dose
    errors = errors_at(doc)
    assert ("order.antiplatelet.dose_mg" not in errors) is ok
    if not ok:
        assert "75–100 mg/day" in errors["order.antiplatelet.dose_mg"]


def test_wrong_types_become_field_errors():
    doc = example_doc()
    doc["patient"]["pregnant"] = "no"
    doc["patient"]["involvement"] = ["renal"]
    doc["order"]["dose_cells"] = "100000000"
    doc["product"]["certificate"]["markers_pct"]["CD73"] = {"value": 99}
    errors = errors_at(doc)
    assert set(errors) >= {
        "patient.pregnant",
        "patient.involvement",
        "order.dose_cells",
        "product.certificate.markers_pct.CD73",
    }


def test_errors_inside_a_nullable_object_point_at_the_field():
    doc = example_doc()
    doc["patient"]["platelets"] = {"value_10e9_per_l": "many", "date": "2024-13-01"}
    errors = errors_at(doc)
    assert "decimal number" in errors["patient.platelets.value_10e9_per_l"]
    assert "not a real calendar date" in errors["patient.platelets.date"]


def test_a_percentage_above_100_is_refused():
    doc = example_doc()
    doc["product"]["certificate"]["markers_pct"]["CD90"] = "100.1"
    assert "product.certificate.markers_pct.CD90" in errors_at(doc)


def test_cell_counts_come_in_pairs():
    doc = example_doc()
    del doc["product"]["certificate"]["cell_count_labelled"]
    assert "both" in errors_at(doc)["product.certificate.cell_count_labelled"]


def test_zero_volume_is_a_field_error_but_231_ml_is_a_refused_plan():
    doc = example_doc()
    doc["product"]["suspension_volume_ml"] = "0"
    assert "product.suspension_volume_ml" in errors_at(doc)
    doc["product"]["suspension_volume_ml"] = "231"
    plan, errors = plan_from_document(doc)
    assert errors == []
    assert plan.rate_plan.status == "refused"


def test_a_birth_date_after_the_infusion_is_refused():
    doc = example_doc()
    doc["patient"]["date_of_birth"] = "2024-06-13"
    assert "patient.date_of_birth" in errors_at(doc)


def test_json_floats_are_read_through_their_shortest_repr():
    doc = example_doc()
    doc["product"]["certificate"]["markers_pct"]["CD105"] = 94.9
    plan, errors = plan_from_document(doc)
    assert errors == []
    assert plan.product_release.failing[0].value == "94.9"


def test_parse_plan_input_raises_with_the_errors():
    doc = example_doc()
    doc["ward_time_zone"] = "Nowhere/Land"
    with pytest.raises(PlanInputError) as info:
        parse_plan_input(doc)
    assert [e.path for e in info.value.errors] == ["ward_time_zone"]


def test_nulls_mean_unknown_not_passed():
    doc = example_doc()
    for key in (
        "pregnant",
        "lactating",
        "tumour",
        "pap_systolic_mmhg",
        "pulmonary_hypertension",
        "platelets",
    ):
        doc["patient"][key] = None
    plan, errors = plan_from_document(doc)
    assert errors == []
    assert plan.status == "incomplete"
    assert set(plan.candidacy.unknown_items) >= {
        "patient.pregnant",
        "patient.lactating",
        "patient.tumour",
    }


# --- Never raises ----------------------------------------------------------------------

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "2024-06-12T09:30:00+08:00",
            "2024-06-12T09:30:00",
            "2024-06-12",
            "0001-01-01",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-12:00",
            "Asia/Shanghai",
            "America/New_York",
            "Mars/Base",
            "75",
            "100",
            "101",
            "0",
            "-1",
            "230",
            "231",
            "0.000001",
            "999999999.999999",
            "negative",
            "positive",
            "mild",
            "severe",
            "autologous",
            "clear",
            "impaired",
        ]
    ),
)
JSON_LIKE = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)


def all_paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from all_paths(child, (*prefix, key))


def check_never_raises(doc):
    errors = validate_plan_input(doc)
    if errors:
        assert all(isinstance(e.path, str) and isinstance(e.message, str) for e in errors)
        plan, again = plan_from_document(doc)
        assert plan is None and again == errors
        return None
    plan = build_plan(parse_plan_input(doc))
    json.dumps(plan.to_dict())
    plan_to_text(plan)
    return plan


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_LIKE)
def test_property_any_json_like_value_gives_errors_not_exceptions(doc):
    check_never_raises(doc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {
            "ward_time_zone": JSON_LIKE,
            "patient": JSON_LIKE,
            "product": JSON_LIKE,
            "order": JSON_LIKE,
        }
    )
)
def test_property_any_shaped_document_gives_errors_not_exceptions(doc):
    check_never_raises(doc)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_examples_give_a_plan_or_errors(data):
    doc = example_doc()
    paths = [p for p in all_paths(doc) if p]
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if data.draw(st.booleans()) and path[-1] in parent:
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON_LIKE)
    check_never_raises(doc)
