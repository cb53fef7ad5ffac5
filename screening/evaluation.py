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

from .reference import fill_ulns


def protocol_on(screening_date):
    """The protocol in effect on the date, with the ward's SCREENING_WINDOW_DAYS.

    The window is protocol data in the engine; a ward setting that differs from the
    protocol's makes a derived protocol version ("1.0-w14") so every evaluation records
    the window it used.
    """
    try:
        protocol = protocol_for(screening_date or date.today())
    except NoProtocolError:
        return None
    days = settings.SCREENING_WINDOW_DAYS
    if protocol.screening_window_days == days:
        return protocol
    return dataclasses.replace(
        protocol, version=f"{protocol.version}-w{days}", screening_window_days=days
    )


def window_days(screening_date):
    protocol = protocol_on(screening_date)
    return protocol.screening_window_days if protocol else settings.SCREENING_WINDOW_DAYS


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
    filled_doc, filled = fill_ulns(doc)
    protocol = protocol_on(_screening_date(filled_doc))
    try:
        evaluation = evaluate(filled_doc, protocol=protocol)
    except ValidationErrors as exc:
        return exc.errors, None, {}
    return [], evaluation, filled


__all__ = ["PROTOCOLS", "errors_as_fields", "evaluate_document", "protocol_on", "window_days"]
