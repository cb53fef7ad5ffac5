"""Property tests: whatever JSON-like value arrives, validate_facts returns field errors
or evaluate returns an Evaluation; nothing else escapes. The fast validity check always
agrees with jsonschema."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from screening.engine import (
    SCHEMA,
    Evaluation,
    FieldError,
    ValidationErrors,
    evaluate,
    validate_facts,
)
from screening.engine.validation import _FAST_VALID, _date_errors, _non_finite_numbers

from . import load_example

EXAMPLES = [load_example(name) for name in ("sle", "dcssc", "aav", "iim", "ss")]
REFERENCE = Draft202012Validator(SCHEMA)

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "2026-03-02",
            "2026-02-30",
            "1899-12-31",
            "SLE",
            "AAV",
            "ratio",
            "g/dL",
            "positive",
            "1:80",
            "female",
        ]
    )
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def paths(value, prefix=()):
    """Every path into a document, to replace or delete what is there."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


@st.composite
def edited_examples(draw):
    """An example with a few subtrees replaced by random values or deleted."""
    doc = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        candidates = [p for p in paths(doc) if p]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        node = doc
        for part in path[:-1]:
            node = node[part]
        if draw(st.booleans()) and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = draw(json_values)
    return doc


def check_never_raises(doc):
    errors = validate_facts(doc)
    assert isinstance(errors, list)
    assert all(isinstance(e, FieldError) and isinstance(e.path, str) for e in errors)
    if errors:
        try:
            evaluate(doc)
        except ValidationErrors as raised:
            assert raised.errors == errors
        else:
            raise AssertionError("evaluate accepted a document with field errors")
    else:
        evaluation = evaluate(doc)
        assert isinstance(evaluation, Evaluation)
        evaluation.to_dict()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_gives_field_errors_or_an_evaluation(value):
    check_never_raises(value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(SCHEMA["properties"])), json_values, max_size=6))
def test_any_top_level_shape_gives_field_errors_or_an_evaluation(value):
    check_never_raises({"screening_date": "2026-03-02", "indication": "SLE", **value})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_examples())
def test_edited_examples_give_field_errors_or_an_evaluation(doc):
    check_never_raises(doc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_examples() | json_values)
def test_the_fast_check_agrees_with_jsonschema_and_the_date_check(doc):
    reference = (
        not list(_non_finite_numbers(doc, ""))
        and REFERENCE.is_valid(doc)
        and not list(_date_errors(doc, ""))
    )
    assert _FAST_VALID(doc) == reference


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [
            "labs.creatinine.value",
            "labs.creatinine.uln",
            "patient.weight_kg.value",
            "labs.inr.uln",
            "labs.inr.value",
            "labs.haemoglobin.value",
        ]
    ),
    st.floats(min_value=0, max_value=1e6, allow_subnormal=True)
    | st.sampled_from([5e-324, 1e-300, 1e-12, 999999.999999]),
)
def test_extreme_but_valid_numbers_never_break_the_engine(path, value):
    doc = copy.deepcopy(EXAMPLES[0])
    # A creatinine far above a tiny ULN: the clearance is computed and is huge.
    doc["labs"]["creatinine"].update(value=1e-300, uln=1e-302)
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node[part]
    node[last] = value
    check_never_raises(doc)


def test_a_tiny_earlier_fvc_or_a_zero_mrss_is_handled():
    doc = copy.deepcopy(EXAMPLES[1])
    # The smallest values the input boundary lets through (issue 16: exponents within
    # ±20; 1e-300 is a field error, see tests/core/test_bounded_numbers.py).
    doc["dcssc"]["fvc_percent_predicted"][0]["value"] = 1e-20
    doc["dcssc"]["dlco_percent_predicted"][0]["value"] = 1e-20
    doc["dcssc"]["mrss"][0]["value"] = 0
    check_never_raises(doc)
    assert evaluate(doc).criterion("A-SSC-4").status.value == "met"  # mRSS rose from 0
