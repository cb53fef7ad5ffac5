"""Every Part B rule of the digest is implemented, produced by the engine and tested."""

import re
from pathlib import Path

import pytest

from infusion.engine import RULES, build_plan, parse_plan_input

from . import example_doc, repo_root

DIGEST = Path(repo_root()).parent / "shared" / "clinical-rules.md"
TESTS_DIR = repo_root() / "tests" / "infusion"
ID_RE = re.compile(r"\bB-[A-Z]+-\d+\b")
TABLE_3 = {
    "R1": "1B",
    "R2": "1A",
    "R3": "1B",
    "R4": "1B",
    "R5": "2C",
    "R6": "1A",
    "R7": "2C",
    "R8": "2B",
    "R9": "1B",
    "R10": "2B",
}


def digest_text() -> str:
    if not DIGEST.is_file():
        pytest.fail(f"The clinical-rules digest is missing: expected it at {DIGEST}")
    return DIGEST.read_text(encoding="utf-8")


def digest_ids() -> list[str]:
    return sorted(set(ID_RE.findall(digest_text())))


def produced_rule_ids() -> set[str]:
    doc = example_doc()
    doc["patient"]["prior_infusion"] = {
        "infusion_date": "2023-01-10",
        "response": True,
        "response_date": "2023-04-10",
        "relapse": True,
        "relapse_date": "2024-05-01",
    }
    plan = build_plan(parse_plan_input(doc))
    ids = {f.rule_id for f in plan.findings}
    ids |= {item.rule_id for item in plan.follow_up}
    ids |= {e.rule_id for e in plan.timeline if e.rule_id}
    return ids


def test_the_digest_lists_part_b_rules():
    assert len(digest_ids()) >= 30


def test_every_digest_rule_is_in_the_registry():
    missing = [rule_id for rule_id in digest_ids() if rule_id not in RULES]
    assert not missing, f"no implementation in RULES: {missing}"


def test_the_registry_invents_no_rule():
    assert set(RULES) == set(digest_ids())


def test_every_digest_rule_is_produced_by_the_engine():
    produced = produced_rule_ids()
    missing = [rule_id for rule_id in digest_ids() if rule_id not in produced]
    assert not missing, f"never produced by build_plan: {missing}"


def test_every_digest_rule_is_mentioned_in_a_test():
    this_file = Path(__file__).resolve()
    texts = [
        path.read_text(encoding="utf-8")
        for path in TESTS_DIR.rglob("*.py")
        if path.resolve() != this_file
    ]
    untested = [
        rule_id
        for rule_id in digest_ids()
        if not any(re.search(re.escape(rule_id) + r"(?!\d)", text) for text in texts)
    ]
    assert not untested, f"no test mentions: {untested}"


def test_recommendations_and_grades_match_the_digest_and_table_3():
    for rule_id, recommendation, grade in re.findall(
        r"\*\*(B-[A-Z]+-\d+)\*\* \((R\d+), (\d[A-D])\)", digest_text()
    ):
        assert (RULES[rule_id].recommendation, RULES[rule_id].grade) == (recommendation, grade)
        assert TABLE_3[recommendation] == grade
    for rule in RULES.values():
        if rule.recommendation is not None:
            assert TABLE_3[rule.recommendation] == rule.grade
            assert rule.citation == f"{rule.recommendation}, {rule.grade}"
