"""Calling the engine from Django: the protocol in effect (with the ward's screening
window), ULNs from the reference ranges, and field errors in the API's shape."""

import dataclasses
from datetime import date

from django.conf import settings

from screening.engine import (
    PROTOCOLS,
    NoProtocolError,
    ValidationErrors,
    evaluate,
    protocol_for,
    validate_facts,
)
from screening.engine.i18n import Message, gettext_noop
from screening.engine.rules._checks import T_NO_ULN_PART
from screening.engine.units import ANALYTE_LABELS

from .reference import fill_ulns

R_RANGE_UNCONVERTIBLE = gettext_noop(
    "no ULN: the reference range of {lab} is in {range_unit}, which cannot be converted to {unit}"
)
T_RANGE_UNCONVERTIBLE_PART = gettext_noop(
    "{label} {value}: no ULN, the reference range of {lab} is in {range_unit},"
    " which cannot be converted to {unit}"
)

# C-UNIT-1: a reference range whose upper limit is not plausible as a ULN is not used.
R_RANGE_IMPLAUSIBLE = gettext_noop(
    "no ULN: the reference range of {lab} gives {upper} {range_unit}, which is not a"
    " plausible upper limit of normal (C-UNIT-1)"
)
T_RANGE_IMPLAUSIBLE_PART = gettext_noop(
    "{label} {value}: no ULN, the reference range of {lab} gives {upper} {range_unit},"
    " which is not a plausible upper limit of normal (C-UNIT-1)"
)


def protocol_on(screening_date):
    """The protocol in effect on the date, with the ward's SCREENING_WINDOW_DAYS.

    The window is protocol data in the engine; a ward setting that differs from the
    protocol's makes a derived protocol version ("1.0-w14") so every evaluation records
    the window it used. The ward may shorten the protocol's window, never lengthen it
    (the setting refuses more than 28 days at start-up; a longer value reaching here
    anyway is capped at the protocol's).
    """
    try:
        protocol = protocol_for(screening_date or date.today())
    except NoProtocolError:
        return None
    days = min(settings.SCREENING_WINDOW_DAYS, protocol.screening_window_days)
    if protocol.screening_window_days == days:
        return protocol
    return dataclasses.replace(
        protocol, version=f"{protocol.version}-w{days}", screening_window_days=days
    )


def window_days(screening_date):
    protocol = protocol_on(screening_date)
    return protocol.screening_window_days if protocol else settings.SCREENING_WINDOW_DAYS


def window_of(protocol_version):
    """The screening window (days) a stored evaluation used, from its protocol version
    ("1.0-w14": the ward's 14 days; "1.0": the protocol's own), or None if unknown."""
    base, _, suffix = (protocol_version or "").partition("-w")
    if suffix.isdigit():
        return int(suffix)
    protocol = PROTOCOLS.get(base)
    return protocol.screening_window_days if protocol else None


def _screening_date(doc):
    value = doc.get("screening_date") if isinstance(doc, dict) else None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def errors_as_fields(errors):
    """Engine FieldErrors as the API's [{"field", "message"}]."""
    return [{"field": e.path, "message": e.message} for e in errors]


def evaluate_document(doc):
    """(field errors, Evaluation or None, ULNs filled) for a parsed facts document.

    Validation runs first on the document as given; ULNs are filled from the reference
    ranges only for a valid document. Never raises for bad input.
    """
    errors = validate_facts(doc)
    if errors:
        return errors, None, {}
    filled_doc, filled, unconvertible = fill_ulns(doc)
    protocol = protocol_on(_screening_date(filled_doc))
    try:
        evaluation = evaluate(filled_doc, protocol=protocol)
    except ValidationErrors as exc:
        return exc.errors, None, {}
    _name_unconvertible_ranges(evaluation, unconvertible)
    return [], evaluation, filled


def _name_unconvertible_ranges(evaluation, unconvertible):
    """Replace the engine's generic "no ULN for the reporting lab" with why there is none
    when a reference range exists but its unit cannot be converted (in place)."""
    if not unconvertible:
        return

    def params(path):
        used = unconvertible[path]
        if "implausible" in used:
            return {
                "lab": used["lab"],
                "range_unit": used["range_unit"],
                "upper": used["implausible"],
            }
        return {"lab": used["lab"], "range_unit": used["range_unit"], "unit": used["unit"]}

    def templates(path):
        if "implausible" in unconvertible[path]:
            return R_RANGE_IMPLAUSIBLE, T_RANGE_IMPLAUSIBLE_PART
        return R_RANGE_UNCONVERTIBLE, T_RANGE_UNCONVERTIBLE_PART

    def explain(item):
        path = item.field.removesuffix(".uln")
        if item.field.endswith(".uln") and path in unconvertible:
            reason = Message(templates(path)[0], params(path))
            return dataclasses.replace(item, reason=reason)
        return item

    by_label = {ANALYTE_LABELS[path.split(".", 1)[1]]: path for path in unconvertible}
    for result in evaluation.criteria:
        if not result.missing:
            continue
        result.missing = tuple(explain(item) for item in result.missing)
        parts = []
        for part in result.reason_parts:
            path = by_label.get(part.args.get("label"))
            if part.template == T_NO_ULN_PART and path:
                part = Message(templates(path)[1], {**part.args, **params(path)})
            parts.append(part)
        result.reason_parts = tuple(parts)
    evaluation.missing = tuple(explain(item) for item in evaluation.missing)


__all__ = [
    "PROTOCOLS",
    "errors_as_fields",
    "evaluate_document",
    "protocol_on",
    "window_days",
    "window_of",
]
