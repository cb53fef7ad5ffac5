"""Evaluation results: plain dataclasses with ``to_dict()`` for JSON, and a text form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .i18n import Message, compose


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class Overall(StrEnum):
    ELIGIBLE = "eligible"  # every criterion met
    INELIGIBLE = "ineligible"  # at least one criterion not met
    INCOMPLETE = "incomplete"  # none failing, some unknown


_PLAIN = frozenset({str, int, bool, type(None)})


def to_json_value(value: Any) -> Any:
    """Decimals become strings (exact), dates ISO strings; containers recursively."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Decimal:
        return format(value, "f")
    if kind is date:
        return value.isoformat()
    if kind is dict:
        return {str(k): to_json_value(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_json_value(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(slots=True)
class MissingItem:
    """An input that would let an unknown criterion be decided."""

    field: str  # path into the facts document, e.g. "labs.inr"
    rule_id: str
    reason: Message  # "missing", "stale: observed …", "no ULN for the reporting lab"

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "rule_id": self.rule_id,
            "reason": self.reason.render(),
            "reason_template": self.reason.template,
            "reason_params": dict(self.reason.params),
        }


@dataclass(slots=True)
class CriterionResult:
    rule_id: str
    title: str  # untranslated msgid from RULES
    status: Status
    reason_parts: tuple[Message, ...]  # translate part by part: i18n.render_reason
    values: dict[str, Any]  # the values used (Decimals, dates, ints, strings)
    observed_on: tuple[date, ...]  # dates of the observations used, ascending
    missing: tuple[MissingItem, ...] = ()

    @property
    def reason(self) -> str:
        """One line of English naming the values and thresholds used."""
        return "; ".join(part.render() for part in self.reason_parts)

    @property
    def reason_template(self) -> str:
        return compose(self.reason_parts)[0]

    @property
    def reason_params(self) -> dict[str, str]:
        return compose(self.reason_parts)[1]

    def to_dict(self) -> dict:
        parts = self.reason_parts
        params_list = [part.params for part in parts]
        template, params = compose(parts, params_list)
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "status": self.status.value,
            "reason": "; ".join(
                part.template.format_map(p) for part, p in zip(parts, params_list, strict=True)
            ),
            "reason_template": template,
            "reason_params": params,
            "reason_parts": [
                {"template": part.template, "params": p}
                for part, p in zip(parts, params_list, strict=True)
            ],
            "values": to_json_value(self.values),
            "observed_on": [d.isoformat() for d in self.observed_on],
        }


@dataclass(slots=True)
class Evaluation:
    indication: str
    screening_date: date
    protocol_version: str
    overall: Overall
    criteria: tuple[CriterionResult, ...]
    failing: tuple[str, ...]  # rule IDs not met
    unknown: tuple[str, ...]  # rule IDs unknown
    missing: tuple[MissingItem, ...] = field(default=())

    def criterion(self, rule_id: str) -> CriterionResult:
        for result in self.criteria:
            if result.rule_id == rule_id:
                return result
        raise KeyError(rule_id)

    def to_dict(self) -> dict:
        return {
            "indication": self.indication,
            "screening_date": self.screening_date.isoformat(),
            "protocol_version": self.protocol_version,
            "overall": self.overall.value,
            "failing": list(self.failing),
            "unknown": list(self.unknown),
            "criteria": [result.to_dict() for result in self.criteria],
            "missing": [item.to_dict() for item in self.missing],
        }


_STATUS_TEXT = {Status.MET: "met", Status.NOT_MET: "NOT MET", Status.UNKNOWN: "unknown"}


def evaluation_to_text(evaluation: Evaluation) -> str:
    """CLI text: one line per criterion (rule ID, status, reason), then overall and missing."""
    lines = [
        f"Screening {evaluation.indication} on {evaluation.screening_date.isoformat()}"
        f" (protocol {evaluation.protocol_version})"
    ]
    width = max(len(result.rule_id) for result in evaluation.criteria)
    for result in evaluation.criteria:
        status = _STATUS_TEXT[result.status]
        lines.append(f"{result.rule_id:<{width}}  {status:<7}  {result.reason}")
    overall = evaluation.overall.value.upper()
    if evaluation.failing:
        overall += f" (failing: {', '.join(evaluation.failing)})"
    elif evaluation.unknown:
        overall += f" (unknown: {', '.join(evaluation.unknown)})"
    lines.append(f"Overall: {overall}")
    if evaluation.missing:
        lines.append("Missing:")
        for item in evaluation.missing:
            lines.append(f"  {item.field} [{item.rule_id}]: {item.reason.render()}")
    return "\n".join(lines) + "\n"
