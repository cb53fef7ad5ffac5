"""Every A-… rule of the clinical rules digest is implemented and tested.

The digest lives beside the repository: <repo root>/../shared/clinical-rules.md.
"""

import re

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
