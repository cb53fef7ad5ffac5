"""evaluate(): facts document (or Facts) + protocol → Evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .facts import Facts
from .protocols import PROTOCOLS, NoProtocolError, Protocol, get_protocol, protocol_for
from .results import CriterionResult, Evaluation, MissingItem, Overall, Status
from .rules import INDICATION_RULES, RULE_FUNCTIONS, RULES, rules_for
from .rules._checks import Check, Ctx
from .units import lab_problems
from .validation import FieldError, ValidationErrors, parse_facts


def resolve_protocol(
    facts: Facts, protocol: Protocol | str | None, registry: Mapping[str, Protocol] = PROTOCOLS
) -> Protocol:
    """The given protocol, a version from the registry, or the one in effect on the date."""
    if isinstance(protocol, Protocol):
        return protocol
    try:
        if isinstance(protocol, str):
            return get_protocol(protocol, registry)
        return protocol_for(facts.screening_date, registry)
    except NoProtocolError as exc:
        raise ValidationErrors([FieldError("screening_date", str(exc))]) from None


def evaluate(
    doc_or_facts: Mapping[str, Any] | Facts, *, protocol: Protocol | str | None = None
) -> Evaluation:
    """Evaluate a facts document (validated first) or typed Facts.

    ``protocol``: a Protocol, a version from PROTOCOLS ("1.0"), or None for the protocol
    in effect on the screening date.

    Raises ValidationErrors (with field errors) for an invalid document; call
    ``validate_facts`` first to get the errors without an exception. An unknown
    protocol version raises NoProtocolError.
    """
    if isinstance(protocol, str):
        protocol = get_protocol(protocol)  # an unknown version is a programming error
    if isinstance(doc_or_facts, Facts):
        facts = doc_or_facts
        # C-UNIT-1: typed facts skip validation, but never an implausible or
        # unreconcilable lab: that is an error, not a verdict.
        errors = lab_errors(facts)
        if errors:
            raise ValidationErrors(errors)
    else:
        facts = parse_facts(doc_or_facts, protocol=protocol)
    chosen = resolve_protocol(facts, protocol)
    ctx = Ctx(facts, chosen)
    results = tuple(
        _result(rule_id, title, function(ctx))
        for rule_id, title, function in _PLANS[facts.indication]
    )
    failing = tuple(r.rule_id for r in results if r.status is Status.NOT_MET)
    unknown = tuple(r.rule_id for r in results if r.status is Status.UNKNOWN)
    if failing:
        overall = Overall.INELIGIBLE
    elif unknown:
        overall = Overall.INCOMPLETE
    else:
        overall = Overall.ELIGIBLE
    return Evaluation(
        indication=facts.indication,
        screening_date=facts.screening_date,
        protocol_version=chosen.version,
        overall=overall,
        criteria=results,
        failing=failing,
        unknown=unknown,
        missing=tuple(item for r in results for item in r.missing),
    )


def lab_errors(facts: Facts) -> list[FieldError]:
    """C-UNIT-1 field errors for the labs of typed facts (``units.lab_problems``)."""
    return [
        FieldError(f"labs.{analyte}.{part}", message)
        for analyte, lab in facts.labs.items()
        for part, message in lab_problems(analyte, lab.value, lab.unit, lab.uln, lab.uln_unit)
    ]


_PLANS = {
    indication: tuple(
        (rule_id, RULES[rule_id], RULE_FUNCTIONS[rule_id]) for rule_id in rules_for(indication)
    )
    for indication in INDICATION_RULES
}


def _result(rule_id: str, title: str, outcome: Check) -> CriterionResult:
    missing: tuple[MissingItem, ...] = ()
    if outcome.status is Status.UNKNOWN:
        unique: dict[tuple, MissingItem] = {}
        for path, reason in outcome.missing:
            key = (path, reason.template, tuple(reason.params.items()))
            if key not in unique:
                unique[key] = MissingItem(path, rule_id, reason)
        missing = tuple(unique.values())
    observed = outcome.observed_on
    return CriterionResult(
        rule_id,
        title,
        outcome.status,
        tuple(outcome.messages),
        outcome.values,
        tuple(sorted(set(observed))) if len(observed) > 1 else tuple(observed),
        missing,
    )
