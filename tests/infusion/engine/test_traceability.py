"""Every Part B rule of the digest is implemented, produced by the engine and tested; every
Part C (workflow-safety) rule is enforced in code and tested, but for those still pending
with the issue that builds them."""

import re
from pathlib import Path

import pytest

from infusion.engine import RULES, build_plan, parse_plan_input

from . import example_doc, repo_root

DIGEST = Path(repo_root()).parent / "shared" / "clinical-rules.md"
TESTS_DIR = repo_root() / "tests" / "infusion"
ID_RE = re.compile(r"\bB-[A-Z]+-\d+\b")
C_ID_RE = re.compile(r"\bC-[A-Z]+-\d+\b")
CODE_DIRS = ("infusion", "screening", "core")
# Part C rules of the digest not built yet, each with the issue that builds it. When those
# issues have landed this is empty and no C-* ID may be left out.
PENDING_C: dict[str, str] = {}
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


def part_c_ids() -> list[str]:
    return sorted(set(C_ID_RE.findall(digest_text())))


def test_the_registry_invents_no_rule():
    registered_b = {r for r in RULES if r.startswith("B-")}
    assert registered_b == set(digest_ids())
    assert set(RULES) - registered_b <= set(part_c_ids())


def test_the_digest_has_a_part_c_and_only_known_rules_are_pending():
    assert len(part_c_ids()) >= 7
    assert set(PENDING_C) <= set(part_c_ids())


def _texts(paths):
    return [path.read_text(encoding="utf-8") for path in paths]


def test_every_part_c_rule_is_enforced_in_code_and_tested():
    root = repo_root()
    code = _texts(p for d in CODE_DIRS for p in (root / d).rglob("*.py"))
    tests = _texts((root / "tests").rglob("*.py"))
    this_file = Path(__file__).resolve().read_text(encoding="utf-8")
    tests = [t for t in tests if t != this_file]
    for rule_id in part_c_ids():
        if rule_id in PENDING_C:
            continue
        pattern = re.escape(rule_id) + r"(?!\d)"
        assert any(re.search(pattern, t) for t in code), f"{rule_id}: no code cites it"
        assert any(re.search(pattern, t) for t in tests), f"{rule_id}: no test mentions it"


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
