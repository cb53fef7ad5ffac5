"""Pure tests of screening.engine (no database, no Django), plus shared helpers.

Each rule test starts from a worked example in docs/examples/screening/ made eligible
(``case("SLE")``, i.e. ``make_case``), changes the facts that matter and looks at one
criterion. No fixtures: the tests also run as
``pytest -p no:django --noconftest tests/screening/engine``.
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any


def repo_root() -> Path:
    """The directory holding manage.py or pyproject.toml above this file."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "manage.py").exists() or (parent / "pyproject.toml").exists():
            return parent
    raise RuntimeError("repository root not found")


REPO_ROOT = repo_root()
if str(REPO_ROOT) not in sys.path:  # e.g. under importmode=importlib
    sys.path.insert(0, str(REPO_ROOT))

from screening.engine import CriterionResult, Evaluation, evaluate, validate_facts  # noqa: E402

EXAMPLES_DIR = REPO_ROOT / "docs" / "examples" / "screening"
EXAMPLE_FILES = {"SLE": "sle", "dcSSc": "dcssc", "AAV": "aav", "IIM": "iim", "SS": "ss"}


def load_example(name: str) -> dict:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _split(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in path.split(".")]


class Case:
    """A facts document being edited, with shortcuts to evaluate it."""

    def __init__(self, doc: dict):
        self.doc = doc

    @property
    def screening_date(self) -> date:
        return date.fromisoformat(self.doc["screening_date"])

    def days_before(self, days: int) -> str:
        """The ISO date ``days`` before the screening date (negative: after it)."""
        return (self.screening_date - timedelta(days=days)).isoformat()

    def set(self, path: str, value: Any) -> Case:
        *parents, last = _split(path)
        node = self.doc
        for part in parents:
            if isinstance(node, dict):
                node = node.setdefault(part, {})
            else:
                node = node[part]
        node[last] = value
        return self

    def delete(self, path: str) -> Case:
        *parents, last = _split(path)
        node = self.doc
        for part in parents:
            node = node[part]
        del node[last]
        return self

    def lab(
        self, analyte: str, value: Any, unit: str, uln: Any = None, days_before: int = 1
    ) -> Case:
        lab = {"value": value, "unit": unit, "date": self.days_before(days_before)}
        if uln is not None:
            lab["uln"] = uln
        return self.set(f"labs.{analyte}", lab)

    def observed(self, path: str, value: Any, days_before: int = 1) -> Case:
        """Set ``path`` to {"value": value, "date": …}."""
        return self.set(path, {"value": value, "date": self.days_before(days_before)})

    def evaluate(self, **kwargs: Any) -> Evaluation:
        errors = validate_facts(self.doc)
        assert errors == [], errors
        return evaluate(self.doc, **kwargs)

    def result(self, rule_id: str, **kwargs: Any) -> CriterionResult:
        return self.evaluate(**kwargs).criterion(rule_id)

    def status(self, rule_id: str) -> str:
        return self.result(rule_id).status.value

    def missing_fields(self, rule_id: str) -> list[str]:
        return [item.field for item in self.result(rule_id).missing]


def eligible_document(indication: str) -> dict:
    doc = load_example(EXAMPLE_FILES[indication])
    if indication == "AAV":
        # The AAV example is incomplete on purpose (stale INR, APTT without ULN).
        doc["labs"]["inr"]["date"] = doc["labs"]["aptt"]["date"]
        doc["labs"]["aptt"]["uln"] = 36
    if indication == "SS":
        # The SS example is ineligible on purpose (ESSDAI 4): articular 2 makes it 6.
        doc["ss"]["essdai"]["domains"]["articular"] = 2
    return doc


def make_case(indication: str = "SLE") -> Case:
    """An eligible document for ``indication`` to edit and evaluate."""
    made = Case(copy.deepcopy(eligible_document(indication)))
    assert made.evaluate().overall.value == "eligible", indication
    return made
