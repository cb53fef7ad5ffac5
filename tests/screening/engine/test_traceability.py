"""Every A-… rule of the clinical rules digest is implemented and tested.

The digest lives beside the repository: <repo root>/../shared/clinical-rules.md.

"Tested" means more than "mentioned": for each rule ID, and for each of met, not met
and unknown, some test function names the ID together with that status (as a string
"met" / "not_met" / "unknown", in its body or its parametrize values, or as
MET / NOT_MET / UNKNOWN). This is read from the test sources with ``ast``, one test
function at a time, so a rule with no test deciding it, failing it or leaving it
unknown fails here. It cannot prove the assertion is the right one; review does that.
"""

import ast
import functools
import re
from pathlib import Path

import pytest

from screening.engine import INDICATION_RULES, RULES, evaluate

from . import REPO_ROOT

DIGEST = REPO_ROOT.parent / "shared" / "clinical-rules.md"
TESTS_DIR = REPO_ROOT / "tests" / "screening"
RULE_ID = re.compile(r"\bA-[A-Z]+-\d+\b")


def digest_rule_ids():
    assert DIGEST.is_file(), f"clinical rules digest not found at {DIGEST}"
    return sorted(set(RULE_ID.findall(DIGEST.read_text(encoding="utf-8"))))


def produced_rule_ids():
    produced = {}
    for indication in INDICATION_RULES:
        evaluation = evaluate({"screening_date": "2026-03-02", "indication": indication})
        for result in evaluation.criteria:
            produced.setdefault(result.rule_id, set()).add(indication)
    return produced


def test_the_digest_has_part_a_rule_ids():
    ids = digest_rule_ids()
    assert len(ids) >= 31
    assert "A-ORG-6" in ids and "A-GEN-1" in ids


def test_every_digest_rule_is_implemented_and_evaluated_for_its_indication():
    produced = produced_rule_ids()
    block_of = {rule: ind for ind, rules in INDICATION_RULES.items() for rule in rules}
    for rule_id in digest_rule_ids():
        assert rule_id in RULES, f"{rule_id} has no implementation"
        expected = {block_of[rule_id]} if rule_id in block_of else set(INDICATION_RULES)
        assert produced.get(rule_id) == expected, f"{rule_id} is not evaluated as the digest says"


def test_the_engine_has_no_rule_the_digest_lacks():
    assert set(RULES) == set(digest_rule_ids())


@pytest.mark.parametrize("rule_id", digest_rule_ids())
def test_every_digest_rule_is_mentioned_in_a_test(rule_id):
    sources = [
        path.read_text(encoding="utf-8")
        for path in TESTS_DIR.rglob("*.py")
        if path.name != "test_traceability.py"
    ]
    assert any(rule_id in text for text in sources), f"no test mentions {rule_id}"


STATUSES = ("met", "not_met", "unknown")
_STATUS_NAMES = {"MET": "met", "NOT_MET": "not_met", "UNKNOWN": "unknown"}


def statuses_by_rule(sources):
    """{rule ID: statuses named in a test function that also names the ID}."""
    found: dict[str, set[str]] = {}
    for text in sources:
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not node.name.startswith("test"):
                continue
            ids, statuses = set(), set()
            for part in [*node.decorator_list, *node.body]:
                for sub in ast.walk(part):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        ids.update(RULE_ID.findall(sub.value))
                        if sub.value in STATUSES:
                            statuses.add(sub.value)
                    elif isinstance(sub, ast.Name) and sub.id in _STATUS_NAMES:
                        statuses.add(_STATUS_NAMES[sub.id])
                    elif isinstance(sub, ast.Attribute) and sub.attr in _STATUS_NAMES:
                        statuses.add(_STATUS_NAMES[sub.attr])
            for rule_id in ids:
                found.setdefault(rule_id, set()).update(statuses)
    return found


@functools.cache
def scanned_statuses():
    return statuses_by_rule(
        [
            path.read_text(encoding="utf-8")
            for path in sorted(Path(TESTS_DIR).rglob("test_*.py"))
            if path.name != "test_traceability.py"
        ]
    )


def test_the_status_scan_sees_only_what_a_test_function_names():
    sample = """
import pytest

@pytest.mark.parametrize("status", ["met", "not_met"])
def test_a(status):
    assert c.status("A-XYZ-1") == status

def test_b():
    assert c.result("A-XYZ-2").status is UNKNOWN

def helper():
    return ("A-XYZ-3", "unknown")

def test_c():
    assert "A-XYZ-1" in "text"  # named, but with no status: adds nothing
"""
    assert statuses_by_rule([sample]) == {"A-XYZ-1": {"met", "not_met"}, "A-XYZ-2": {"unknown"}}


@pytest.mark.parametrize("rule_id", digest_rule_ids())
def test_every_digest_rule_has_a_test_for_each_status(rule_id):
    seen = scanned_statuses().get(rule_id, set())
    lacking = [status for status in STATUSES if status not in seen]
    assert not lacking, f"no test names {rule_id} together with status {lacking}"
