"""The worked examples in docs/examples/screening/: one input per indication, each valid
against the schema and evaluating to its checked-in expected output.

After an intended change of output, regenerate an expected file with
``python -m screening.engine docs/examples/screening/sle.json --json > …/sle.expected.json``
and review the diff.
"""

import json

import pytest
from jsonschema import Draft202012Validator

from screening.engine import SCHEMA, evaluate, validate_facts

from . import EXAMPLES_DIR

NAMES = ["sle", "dcssc", "aav", "iim", "ss"]
INDICATIONS = {"sle": "SLE", "dcssc": "dcSSc", "aav": "AAV", "iim": "IIM", "ss": "SS"}
OVERALL = {
    "sle": "eligible",
    "dcssc": "eligible",
    "aav": "incomplete",
    "iim": "eligible",
    "ss": "ineligible",
}


def read(name):
    return json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))


def test_there_is_one_example_and_one_expected_output_per_indication():
    files = sorted(p.name for p in EXAMPLES_DIR.glob("*.json"))
    assert files == sorted([f"{n}.json" for n in NAMES] + [f"{n}.expected.json" for n in NAMES])


@pytest.mark.parametrize("name", NAMES)
def test_the_example_validates_against_the_schema(name):
    doc = read(f"{name}.json")
    assert list(Draft202012Validator(SCHEMA).iter_errors(doc)) == []
    assert validate_facts(doc) == []
    assert doc["indication"] == INDICATIONS[name]


@pytest.mark.parametrize("name", NAMES)
def test_the_example_evaluates_to_its_expected_output(name):
    result = evaluate(read(f"{name}.json")).to_dict()
    # Round-trip through JSON so tuples and lists compare alike.
    assert json.loads(json.dumps(result)) == read(f"{name}.expected.json")
    assert result["overall"] == OVERALL[name]
