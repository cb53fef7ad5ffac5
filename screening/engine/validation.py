"""Validate a facts document: JSON Schema first, then units, dates and scores.

``validate_facts`` never raises: anything wrong becomes a ``FieldError`` whose ``path``
points into the document ("labs.inr.unit", "treatment_history.0.start").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from core import numbers

from .calculators import CalculatorError, sledai_2k
from .dates import MAX_DATE, MIN_DATE, parse_iso_date
from .drugs import allowed_dose_units
from .facts import (
    Facts,
    build_facts,
    essdai_from_document,
    haq_di_from_document,
    mmt8_from_document,
    to_decimal,
)
from .fastschema import compile_schema
from .protocols import PROTOCOLS, NoProtocolError, Protocol, protocol_for
from .units import UnitError, lab_problems, normalise_unit

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "patient-facts.schema.json"
SCHEMA: dict = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
_VALIDATOR = Draft202012Validator(SCHEMA)
DATE_PATTERN = SCHEMA["$defs"]["date"]["pattern"]
# Valid against the schema, with every date a real one: such a document needs neither
# jsonschema nor the date walk.
_FAST_VALID = compile_schema(
    SCHEMA, pattern_checks={DATE_PATTERN: lambda text: parse_iso_date(text) is not None}
)

_DATE_KEYS = frozenset(
    {
        "screening_date",
        "date_of_birth",
        "date",
        "start",
        "end",
        "active_since",
        "ild_diagnosed_on",
    }
)
_MAX_MESSAGE = 200


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str  # "labs.inr.unit"; "" is the document itself
    message: str

    def to_dict(self) -> dict:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path or '(document)'}: {self.message}"


class ValidationErrors(ValueError):
    """The document has field errors; ``errors`` lists them."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


def validate_facts(doc: Any, *, protocol: Protocol | None = None) -> list[FieldError]:
    """Field errors for ``doc`` (empty when it can be evaluated). Never raises."""
    errors, _ = check_facts(doc, protocol=protocol)
    return errors


def parse_facts(doc: Any, *, protocol: Protocol | None = None) -> Facts:
    """Typed facts from ``doc``, or ValidationErrors listing every field error."""
    errors, facts = check_facts(doc, protocol=protocol)
    if errors:
        raise ValidationErrors(errors)
    assert facts is not None
    return facts


def check_facts(
    doc: Any, *, protocol: Protocol | None = None
) -> tuple[list[FieldError], Facts | None]:
    """Field errors and, when there are none, the typed facts."""
    try:
        # First, before anything compares or formats a number: a number beyond the
        # bounds (30 significant digits, exponent ±20) is refused where it stands.
        errors = [FieldError(path, numbers.MESSAGE) for path in numbers.unbounded(doc)]
        if errors:
            return _sorted_unique(errors), None
        if _FAST_VALID(doc):
            errors = []
        else:
            # The fast check only says "invalid"; the reference validator says why.
            errors = list(_non_finite_numbers(doc, ""))
            if not errors:
                errors = _schema_errors(doc)
            if not errors:
                errors = list(_date_errors(doc, ""))
        if not errors:
            errors = list(_semantic_errors(doc, protocol))
    except RecursionError:
        return [FieldError("", "the document is nested too deeply")], None
    if errors:
        return _sorted_unique(errors), None
    return [], build_facts(doc)


def _sorted_unique(errors: list[FieldError]) -> list[FieldError]:
    return sorted(set(errors), key=lambda e: (e.path, e.message))


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _non_finite_numbers(value: Any, path: str) -> Iterator[FieldError]:
    # json.loads accepts NaN and Infinity; no clinical number can be either. (The
    # free-form "meta" object is not read, so it is not checked.)
    if (isinstance(value, float) and not math.isfinite(value)) or (
        isinstance(value, Decimal) and not value.is_finite()
    ):
        yield FieldError(path, "must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            if path == "" and key == "meta":
                continue
            yield from _non_finite_numbers(item, _join(path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _non_finite_numbers(item, _join(path, index))


# --- JSON Schema ---------------------------------------------------------------------


def _schema_errors(doc: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    for error in _VALIDATOR.iter_errors(doc):
        errors.extend(_from_schema_error(error))
    return errors


def _path_of(error: SchemaError) -> str:
    path = ""
    for part in error.absolute_path:
        path = _join(path, part)
    return path


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _from_schema_error(error: SchemaError) -> list[FieldError]:
    path = _path_of(error)
    validator, expected, instance = error.validator, error.validator_value, error.instance
    if validator == "required":
        return [
            FieldError(_join(path, name), "required")
            for name in expected
            if isinstance(instance, dict) and name not in instance
        ]
    if validator == "additionalProperties":
        known = error.schema.get("properties", {})
        return [
            FieldError(_join(path, name), "unknown field") for name in instance if name not in known
        ]
    if validator == "type":
        types = expected if isinstance(expected, list) else [expected]
        message = f"must be of type {' or '.join(types)}, not {_short(instance)}"
    elif validator == "enum":
        choices = ", ".join("null" if c is None else str(c) for c in expected)
        message = f"must be one of {choices}, not {_short(instance)}"
    elif validator == "pattern" and "[0-9]{4}-[0-9]{2}" in expected:
        message = f"must be a date YYYY-MM-DD, not {_short(instance)}"
    elif validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        symbol = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        message = f"must be {symbol[validator]} {expected}, not {_short(instance)}"
    elif validator == "uniqueItems":
        message = "must not repeat items"
    elif validator == "maxLength" and isinstance(instance, str):
        # Issue 16: the length, not the text (a 1 MB string would fill the message).
        message = f"must be at most {expected} characters, not {len(instance)}"
    else:
        message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return [FieldError(path, message)]


# --- Semantic checks (the schema has passed, so the types are right) -----------------


def _semantic_errors(doc: Mapping, protocol: Protocol | None) -> Iterator[FieldError]:
    screening_date = parse_iso_date(doc["screening_date"])
    assert screening_date is not None
    if protocol is None:
        try:
            protocol_for(screening_date, PROTOCOLS)
        except NoProtocolError as exc:
            yield FieldError("screening_date", str(exc))

    patient = doc.get("patient") or {}
    born = parse_iso_date(patient.get("date_of_birth"))
    if born is not None and born > screening_date:
        yield FieldError("patient.date_of_birth", "is after the screening date")

    general = doc.get("general") or {}
    months = general.get("expected_survival_months")
    survival_bool = general.get("survival_gt_6_months")
    if months is not None and survival_bool is not None and (months > 6) != survival_bool:
        yield FieldError(
            "general.survival_gt_6_months", "contradicts general.expected_survival_months"
        )

    for analyte, lab in (doc.get("labs") or {}).items():
        if lab is None:
            continue
        try:
            unit = normalise_unit(analyte, lab["unit"], field=f"labs.{analyte}.unit")
        except UnitError as exc:
            yield FieldError(exc.field, exc.message)
            continue
        # C-UNIT-1: a ULN in a unit that does not fit the analyte, or a value or ULN
        # outside its physiological range, is an error (never a verdict).
        uln = lab.get("uln")
        for part, message in lab_problems(
            analyte,
            to_decimal(lab["value"]),
            unit,
            to_decimal(uln) if uln is not None else None,
            lab.get("uln_unit"),
        ):
            yield FieldError(f"labs.{analyte}.{part}", message)
    # (Cockcroft–Gault divides by creatinine: its plausible range starts above 0.)

    for index, episode in enumerate(doc.get("treatment_history") or ()):
        path = f"treatment_history.{index}"
        start, end = parse_iso_date(episode["start"]), parse_iso_date(episode.get("end"))
        if end is not None and start is not None and end < start:
            yield FieldError(f"{path}.end", "is before start")
        dose = episode.get("dose")
        if dose and dose["unit"] not in allowed_dose_units(episode["drug"]):
            yield _dose_unit_error(f"{path}.dose.unit", episode["drug"], dose["unit"])

    yield from _indication_block_errors(doc)


def _dose_unit_error(path: str, drug: str, unit: str) -> FieldError:
    allowed = ", ".join(sorted(allowed_dose_units(drug)))
    return FieldError(path, f"unit {unit!r} does not fit a {drug} dose (expected {allowed})")


def _date_errors(value: Any, path: str) -> Iterator[FieldError]:
    if isinstance(value, dict):
        for key, item in value.items():
            if path == "" and key == "meta":
                continue
            item_path = _join(path, key)
            if key in _DATE_KEYS and isinstance(item, str):
                if parse_iso_date(item) is None:
                    yield FieldError(
                        item_path,
                        f"not a real date between {MIN_DATE.isoformat()} and "
                        f"{MAX_DATE.isoformat()}: {_short(item)}",
                    )
            else:
                yield from _date_errors(item, item_path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _date_errors(item, _join(path, index))


def _indication_block_errors(doc: Mapping) -> Iterator[FieldError]:
    sle = doc.get("sle") or {}
    if sle.get("sledai_2k"):
        try:
            sledai_2k(sle["sledai_2k"]["descriptors"])
        except CalculatorError as exc:
            yield FieldError("sle.sledai_2k.descriptors", str(exc))

    response = (doc.get("aav") or {}).get("response") or {}
    glucocorticoid = response.get("glucocorticoid") or {}
    dose = glucocorticoid.get("dose")
    if dose and dose["unit"] not in allowed_dose_units(glucocorticoid["drug"]):
        yield _dose_unit_error(
            "aav.response.glucocorticoid.dose.unit", glucocorticoid["drug"], dose["unit"]
        )

    iim = doc.get("iim") or {}
    mmt8 = iim.get("mmt8")
    if mmt8:
        if mmt8.get("total") is None and mmt8.get("scores") is None:
            yield FieldError("iim.mmt8", "give total or scores")
        else:
            try:
                computed = mmt8_from_document(mmt8)
            except CalculatorError as exc:
                yield FieldError("iim.mmt8.scores", str(exc))
            else:
                total = mmt8.get("total")
                if total is not None and mmt8.get("scores") is not None and total != computed:
                    yield FieldError(
                        "iim.mmt8.total", f"{total} does not match the scores (sum {computed})"
                    )
    haq = iim.get("haq_di")
    if haq:
        if (haq.get("value") is None) == (haq.get("categories") is None):
            yield FieldError("iim.haq_di", "give either value or categories")
        else:
            try:
                haq_di_from_document(haq)
            except CalculatorError as exc:
                yield FieldError("iim.haq_di.categories", str(exc))

    essdai_doc = (doc.get("ss") or {}).get("essdai")
    if essdai_doc:
        try:
            essdai_from_document(essdai_doc)
        except CalculatorError as exc:
            yield FieldError("ss.essdai.domains", str(exc))


__all__ = [
    "SCHEMA",
    "SCHEMA_PATH",
    "FieldError",
    "ValidationErrors",
    "check_facts",
    "parse_facts",
    "validate_facts",
]
