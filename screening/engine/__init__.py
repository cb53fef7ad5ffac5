"""Screening rule engine: the trial inclusion criteria (clinical-rules.md Part A).

Pure Python, no Django. A facts document (JSON, see
``screening/schema/patient-facts.schema.json`` and ``docs/examples/screening/``) goes
in; an ``Evaluation`` comes out, one three-valued result per rule ID (met, not_met,
unknown) with a one-line reason, the values and observation dates used, and the inputs
that are missing or stale.

Calling it from Django (management command ``screen`` or an HTTP view)::

    from screening.engine import evaluate, evaluation_to_text, validate_facts

    errors = validate_facts(doc)               # list[FieldError(path, message)]; never raises
    if errors:
        return [e.to_dict() for e in errors]   # e.g. {"path": "labs.inr.unit", "message": ...}
    evaluation = evaluate(doc)                 # protocol in effect on doc["screening_date"]
    payload = evaluation.to_dict()             # JSON-ready; Decimals as strings
    text = evaluation_to_text(evaluation)      # CLI: one line per criterion

or in one step, validating once: ``try: evaluation = evaluate(doc) except
ValidationErrors as exc: errors = exc.errors``. ``doc`` is the parsed JSON (a dict);
numbers may be int, float or Decimal (``core.numbers.loads(text)`` keeps decimals exact);
one beyond 30 significant digits or an exponent of ±20 is a field error (issue 16).

``evaluate(doc)`` on an invalid document raises ``ValidationErrors`` (its ``errors``
are the same field errors). Pass ``protocol=PROTOCOLS["1.0"]`` (or ``"1.0"``) to
evaluate under a specific protocol version; the result records ``protocol_version``.

Translating: titles (``RULES``) and every template are ``gettext_noop`` msgids, so
``makemessages`` extracts them. A missing item is one template:
``gettext(item["reason_template"]).format(**item["reason_params"])``. A criterion's
reason may join several parts ("INR …; APTT …"): translate it with
``render_reason(criterion_dict, gettext)``, which translates each part and the
parameters named ``label``/``*_label`` (analyte and drug names, yes/no; they are
msgids too). ``gettext(reason_template).format(**reason_params)`` also works, but
translates a single-part template only and leaves those names in English.

Numbers in ``values`` are exact decimal strings ("1.80"); dates are ISO strings. The
screening window (28 days) is protocol data: a different window is a new protocol,
e.g. ``dataclasses.replace(PROTOCOLS["1.0"], version="1.0-w14", screening_window_days=14)``.

From a shell: ``python -m screening.engine facts.json [--json]``.
"""

from .calculators import (
    CalculatorError,
    DoseCeiling,
    DoseCheck,
    age_on,
    bvas_active,
    bvas_counts,
    bvas_relapse_dates,
    cockcroft_gault,
    cockcroft_gault_umol,
    essdai,
    exceeds_uln_multiple,
    haq_di,
    mmt8_total,
    prednisone_equivalent_mg,
    relative_change,
    sledai_2k,
    standard_dose_check,
    uln_multiple,
    validate_vas,
    within_uln_multiple,
)
from .evaluate import evaluate
from .facts import Facts
from .i18n import Message, gettext_noop, render, render_reason
from .protocols import PROTOCOLS, NoProtocolError, Protocol, Thresholds, Windows, protocol_for
from .results import CriterionResult, Evaluation, MissingItem, Overall, Status, evaluation_to_text
from .rules import INDICATION_RULES, RULES, rules_for
from .units import UnitError
from .validation import SCHEMA, FieldError, ValidationErrors, parse_facts, validate_facts

__all__ = [
    "INDICATION_RULES",
    "PROTOCOLS",
    "RULES",
    "SCHEMA",
    "CalculatorError",
    "CriterionResult",
    "DoseCeiling",
    "DoseCheck",
    "Evaluation",
    "Facts",
    "FieldError",
    "Message",
    "MissingItem",
    "NoProtocolError",
    "Overall",
    "Protocol",
    "Status",
    "Thresholds",
    "UnitError",
    "ValidationErrors",
    "Windows",
    "age_on",
    "bvas_active",
    "bvas_counts",
    "bvas_relapse_dates",
    "cockcroft_gault",
    "cockcroft_gault_umol",
    "essdai",
    "evaluate",
    "evaluation_to_text",
    "exceeds_uln_multiple",
    "gettext_noop",
    "haq_di",
    "mmt8_total",
    "parse_facts",
    "prednisone_equivalent_mg",
    "protocol_for",
    "relative_change",
    "render",
    "render_reason",
    "rules_for",
    "sledai_2k",
    "standard_dose_check",
    "uln_multiple",
    "validate_facts",
    "validate_vas",
    "within_uln_multiple",
]
