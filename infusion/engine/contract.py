"""The JSON contract: validate and parse a plan-input document.

``validate_plan_input(doc)`` never raises on JSON-like input (dicts, lists, strings,
numbers, booleans, None, nested anyhow): it returns ``FieldError(path, message)`` items,
first from the JSON Schema (``infusion/schema/plan-input.schema.json``), then from the
semantic checks the schema cannot express (aware datetimes, real calendar dates, a known
IANA zone, numeric ranges, the antiplatelet dose 75–100 mg, the date of birth before the
infusion day). Paths are dotted: ``patient.weight.kg``; ``""`` is the document itself.

``parse_plan_input(doc)`` returns a ``PlanInput`` or raises ``PlanInputError`` carrying
the same errors. ``plan_from_document(doc)`` returns ``(plan, [])`` or ``(None, errors)``.

Numbers may be JSON numbers or decimal strings. Use ``core.numbers.loads(text)`` (or
strings) to keep decimals exact; a float is converted through its shortest repr
(``94.9`` → ``Decimal("94.9")``). A number beyond 30 significant digits or an exponent of
±20 is refused at its path before anything else reads the document (issue 16).
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from core import numbers

from .candidacy import OrganInvolvement
from .dose import BodyWeight
from .findings import Serializable
from .follow_up import PriorInfusion
from .medication import ANTIPLATELET_DOSE_MAX_MG, ANTIPLATELET_DOSE_MIN_MG, PlateletCount
from .plan import InfusionPlan, OrderInput, PatientInput, PlanInput, ProductInput, build_plan
from .prerequisites import CONSENTERS, ConsentInput
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings
from .release import MICROBIOLOGY, NEGATIVE_MARKERS, POSITIVE_MARKERS, CertificateOfAnalysis
from .timeutil import load_zone

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "plan-input.schema.json"
_MAX_MESSAGE = 300
_DECIMAL_RE = re.compile(r"^-?[0-9]{1,9}(\.[0-9]{1,6})?$")
# C-UNIT-1: the physiological range of a platelet count, the same as the screening
# engine's (screening/engine/units.py PLAUSIBLE_VALUE; a test holds them equal).
PLATELETS_PLAUSIBLE_10E9_PER_L = (Decimal(1), Decimal(2000))
_YEAR_MIN, _YEAR_MAX = 1900, 2200  # keeps every date arithmetic far from datetime's limits


@dataclass(frozen=True)
class FieldError(Serializable):
    path: str
    message: str


class PlanInputError(ValueError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.path or '(document)'}: {e.message}" for e in errors))


@cache
def plan_input_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator():
    from jsonschema import Draft202012Validator

    schema = plan_input_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _path_of(error) -> str:
    path = ""
    for key in error.absolute_path:
        path = _join(path, key)
    return path


def _convert(error) -> list[FieldError]:
    """One jsonschema error as field errors at the most specific path."""
    path = _path_of(error)
    if error.validator == "required":
        match = re.match(r"^'(.+)' is a required property$", error.message)
        return [FieldError(_join(path, match.group(1) if match else "?"), "is required")]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        return [
            FieldError(_join(path, key), "unknown field")
            for key in error.instance
            if key not in allowed
        ]
    if error.validator == "anyOf":
        # Our anyOfs are "X or null": the value is not null, so report why it is not X.
        branches = [
            sub
            for sub in error.context or ()
            if not (sub.validator == "type" and sub.validator_value == "null")
        ]
        if branches:
            return [field_error for sub in branches for field_error in _convert(sub)]
        return [FieldError(path, "has the wrong type")]
    message = error.schema.get("x-message") if isinstance(error.schema, Mapping) else None
    return [FieldError(path, _short(message or _message(error)))]


_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "object": "an object",
    "array": "a list",
}
_BOUND_WORDS = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def _json_text(value: Any) -> str:
    """A value as the JSON it came from, short (never Python's repr: no "Decimal('1.5')")."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:40] + "…", ensure_ascii=False)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return "a value of another kind"


def _message(error) -> str:
    """jsonschema's message in the contract's words: the instance as JSON, not a repr."""
    validator, expected, instance = error.validator, error.validator_value, error.instance
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(kind, kind) for kind in kinds)
        return f"must be {words}, not {_json_text(instance)}"
    if validator in _BOUND_WORDS:
        return f"must be {_BOUND_WORDS[validator]} {expected}, not {_json_text(instance)}"
    if validator in ("enum", "const"):
        return f"is not one of the allowed values: {_json_text(instance)}"
    if validator == "maxLength" and isinstance(instance, str):
        # Issue 16: the length, not the text (a 1 MB string would fill the message).
        return f"must be at most {expected} characters, not {len(instance)}"
    if validator in ("minLength", "maxLength", "minItems", "maxItems", "pattern"):
        return f"{_json_text(instance)} does not match the expected format ({validator} {expected})"
    return error.message


def _schema_errors(doc: Any) -> list[FieldError]:
    try:
        raw = list(_validator().iter_errors(doc))
    except Exception as exc:  # not JSON-like at all (e.g. unhashable or exotic values)
        return [FieldError("", _short(f"not a JSON document: {type(exc).__name__}"))]
    errors = [field_error for error in raw for field_error in _convert(error)]
    unique = {(e.path, e.message): e for e in errors}
    return sorted(unique.values(), key=lambda e: e.path)


class _Reader:
    """Semantic parsing that records errors instead of raising."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    @staticmethod
    def obj(parent: Any, key: str) -> Mapping:
        value = parent.get(key) if isinstance(parent, Mapping) else None
        return value if isinstance(value, Mapping) else {}

    def decimal(
        self,
        parent: Mapping,
        key: str,
        path: str,
        *,
        low: Decimal | None = None,
        high: Decimal | None = None,
        low_exclusive: bool = False,
        unit: str = "",
    ) -> Decimal | None:
        path = _join(path, key)
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            self.error(path, "must be a decimal number")
            return None
        if isinstance(value, float):
            text = repr(value)
        elif isinstance(value, int | Decimal):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            self.error(path, "must be a decimal number")
            return None
        try:
            # Bounded before it is formatted: format(Decimal("1e999999999"), "f") is a
            # billion digits (core.numbers).
            number = numbers.parse_decimal(text)
        except numbers.UnboundedNumber:
            number = None
        except (InvalidOperation, ValueError):
            self.error(path, "must be a decimal number")
            return None
        if number is None or not number.is_finite() or not _DECIMAL_RE.match(format(number, "f")):
            self.error(
                path, "must be a decimal number with at most 9 digits before and 6 after the point"
            )
            return None
        if low is not None and (number <= low if low_exclusive else number < low):
            sign = ">" if low_exclusive else "≥"
            self.error(path, f"must be {sign} {low}{unit} (got {number}{unit})")
            return None
        if high is not None and number > high:
            self.error(path, f"must be ≤ {high}{unit} (got {number}{unit})")
            return None
        return number

    def integer(self, parent: Mapping, key: str, path: str, *, low: int, high: int) -> int | None:
        path = _join(path, key)
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, "must be an integer")
            return None
        if not low <= value <= high:
            self.error(path, f"must be between {low} and {high}")
            return None
        return value

    def boolean(self, parent: Mapping, key: str, path: str) -> bool | None:
        value = parent.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.error(_join(path, key), "must be true, false or null")
        return None

    def choice(self, parent: Mapping, key: str, path: str, choices: tuple[str, ...]) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value in choices:
            return value
        self.error(_join(path, key), f"must be one of {', '.join(choices)} or null")
        return None

    def text(self, parent: Mapping, key: str, path: str, *, max_length: int) -> str | None:
        """A string, stripped; None when absent, null or blank."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(_join(path, key), "must be a string or null")
            return None
        value = value.strip()
        if len(value) > max_length:
            self.error(_join(path, key), f"must be at most {max_length} characters")
            return None
        return value or None

    def date(self, parent: Mapping, key: str, path: str, *, required: bool = False) -> date | None:
        path = _join(path, key)
        value = parent.get(key)
        if value is None:
            if required:
                self.error(path, "is required")
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            self.error(path, "must be a date YYYY-MM-DD")
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.error(path, f"{value!r} is not a real calendar date")
            return None
        if not _YEAR_MIN <= parsed.year <= _YEAR_MAX:
            self.error(path, f"year must be between {_YEAR_MIN} and {_YEAR_MAX}")
            return None
        return parsed

    def datetime(
        self, parent: Mapping, key: str, path: str, *, required: bool = False
    ) -> datetime | None:
        path = _join(path, key)
        value = parent.get(key)
        if value is None:
            if required:
                self.error(path, "is required")
            return None
        if not isinstance(value, str) or len(value) > 40:
            self.error(path, "must be an ISO 8601 date-time string with a UTC offset")
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.error(path, f"{value!r} is not a valid ISO 8601 date-time")
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.error(
                path,
                f"{value!r} has no UTC offset (naive date-time); write e.g. "
                "2024-06-01T09:00:00+08:00",
            )
            return None
        if not _YEAR_MIN <= parsed.year <= _YEAR_MAX:
            self.error(path, f"year must be between {_YEAR_MIN} and {_YEAR_MAX}")
            return None
        return parsed


def _parse(doc: Any) -> tuple[PlanInput | None, list[FieldError]]:
    r = _Reader()
    root = doc if isinstance(doc, Mapping) else {}
    patient_doc = r.obj(root, "patient")
    product_doc = r.obj(root, "product")
    order_doc = r.obj(root, "order")

    zone_name = root.get("ward_time_zone")
    zone = None
    if isinstance(zone_name, str) and zone_name:
        try:
            zone = load_zone(zone_name)
        except ValueError as exc:
            r.error("ward_time_zone", str(exc))
    elif zone_name is None:
        r.error("ward_time_zone", "is required")
    else:
        r.error("ward_time_zone", "must be an IANA time zone name such as 'Asia/Shanghai'")

    # Patient
    p = "patient"
    dob = r.date(patient_doc, "date_of_birth", p, required=True)
    weight_doc = r.obj(patient_doc, "weight")
    kg = r.decimal(
        weight_doc,
        "kg",
        "patient.weight",
        low=Decimal(0),
        low_exclusive=True,
        high=Decimal(500),
        unit=" kg",
    )
    weight_date = r.date(weight_doc, "date", "patient.weight", required=True)
    if weight_doc.get("kg") is None:
        r.error("patient.weight.kg", "is required")
    sle_doc = r.obj(patient_doc, "sle")
    involvement_doc = r.obj(patient_doc, "involvement")
    involvement = OrganInvolvement(
        **{
            name: r.boolean(involvement_doc, name, "patient.involvement")
            for name in (
                "renal",
                "haematological",
                "pulmonary",
                "skin",
                "cns",
                "cardiac",
                "hepatic",
            )
        }
    )
    names_doc = patient_doc.get("other_autoimmune_names")
    names: tuple[str, ...] = ()
    if isinstance(names_doc, list) and all(isinstance(n, str) for n in names_doc):
        names = tuple(n[:100] for n in names_doc[:10])
    elif names_doc is not None:
        r.error("patient.other_autoimmune_names", "must be a list of names")
    platelets = None
    platelets_doc = patient_doc.get("platelets")
    if isinstance(platelets_doc, Mapping):
        value = r.decimal(
            platelets_doc,
            "value_10e9_per_l",
            "patient.platelets",
            low=Decimal(0),
            high=Decimal(5000),
            unit=" × 10⁹/L",
        )
        if value is not None and not (
            PLATELETS_PLAUSIBLE_10E9_PER_L[0] <= value <= PLATELETS_PLAUSIBLE_10E9_PER_L[1]
        ):
            # C-UNIT-1: an implausible count (150000 read as × 10⁹/L: a /µL number) is an
            # error, never a planning input.
            low, high = PLATELETS_PLAUSIBLE_10E9_PER_L
            r.error(
                "patient.platelets.value_10e9_per_l",
                f"{value} × 10⁹/L is not plausible for platelets (plausible: {low}–{high}"
                " × 10⁹/L): check the value and its unit (C-UNIT-1)",
            )
            value = None
        measured = r.date(platelets_doc, "date", "patient.platelets", required=True)
        if platelets_doc.get("value_10e9_per_l") is None:
            r.error("patient.platelets.value_10e9_per_l", "is required (or set platelets to null)")
        if value is not None and measured is not None:
            platelets = PlateletCount(value, measured)
    elif platelets_doc is not None:
        r.error("patient.platelets", "must be an object {value_10e9_per_l, date} or null")
    prior = None
    prior_doc = patient_doc.get("prior_infusion")
    if isinstance(prior_doc, Mapping):
        pp = "patient.prior_infusion"
        prior = PriorInfusion(
            infusion_date=r.date(prior_doc, "infusion_date", pp),
            response=r.boolean(prior_doc, "response", pp),
            response_date=r.date(prior_doc, "response_date", pp),
            relapse=r.boolean(prior_doc, "relapse", pp),
            relapse_date=r.date(prior_doc, "relapse_date", pp),
        )
    elif prior_doc is not None:
        r.error("patient.prior_infusion", "must be an object or null")

    patient_fields = dict(
        sex=r.choice(patient_doc, "sex", p, ("female", "male")),
        sle_severity=r.choice(sle_doc, "severity", "patient.sle", ("mild", "moderate", "severe")),
        sle_active=r.boolean(sle_doc, "active", "patient.sle"),
        involvement=involvement,
        consciousness=r.choice(patient_doc, "consciousness", p, ("clear", "impaired")),
        pregnant=r.boolean(patient_doc, "pregnant", p),
        lactating=r.boolean(patient_doc, "lactating", p),
        tumour=r.boolean(patient_doc, "tumour", p),
        infection=r.boolean(patient_doc, "infection", p),
        other_autoimmune_disease=r.boolean(patient_doc, "other_autoimmune_disease", p),
        other_autoimmune_names=names,
        pap_systolic_mmhg=r.decimal(
            patient_doc, "pap_systolic_mmhg", p, low=Decimal(0), high=Decimal(300), unit=" mmHg"
        ),
        pulmonary_hypertension=r.choice(
            patient_doc, "pulmonary_hypertension", p, ("none", "mild", "moderate", "severe")
        ),
        severe_cardiopulmonary_insufficiency=r.boolean(
            patient_doc, "severe_cardiopulmonary_insufficiency", p
        ),
        long_term_antiplatelet=r.boolean(patient_doc, "long_term_antiplatelet", p),
        bleeding_history=r.boolean(patient_doc, "bleeding_history", p),
        platelets=platelets,
        prior_infusion=prior,
    )

    # Product
    q = "product"
    preparation_time = r.datetime(product_doc, "preparation_time", q, required=True)
    volume = r.decimal(
        product_doc,
        "suspension_volume_ml",
        q,
        low=Decimal(0),
        low_exclusive=True,
        high=Decimal(10000),
        unit=" mL",
    )
    if product_doc.get("suspension_volume_ml") is None:
        r.error("product.suspension_volume_ml", "is required")
    cert_doc = r.obj(product_doc, "certificate")
    c = "product.certificate"
    markers_doc = r.obj(cert_doc, "markers_pct")
    diff_doc = r.obj(cert_doc, "differentiation")
    micro_doc = r.obj(cert_doc, "microbiology")
    measured_count = r.integer(cert_doc, "cell_count_measured", c, low=0, high=10**15)
    labelled_count = r.integer(cert_doc, "cell_count_labelled", c, low=1, high=10**15)
    if (measured_count is None) != (labelled_count is None):
        missing = "cell_count_labelled" if labelled_count is None else "cell_count_measured"
        r.error(_join(c, missing), "give both the measured and the labelled cell count")
    certificate = CertificateOfAnalysis(
        adherent_growth=r.boolean(cert_doc, "adherent_growth", c),
        differentiation={
            kind: r.boolean(diff_doc, kind, c + ".differentiation")
            for kind in ("adipogenic", "osteogenic", "chondrogenic")
        },
        markers_pct={
            m: r.decimal(
                markers_doc, m, c + ".markers_pct", low=Decimal(0), high=Decimal(100), unit="%"
            )
            for m in (*POSITIVE_MARKERS, *NEGATIVE_MARKERS)
        },
        purity_pct=r.decimal(
            cert_doc, "purity_pct", c, low=Decimal(0), high=Decimal(100), unit="%"
        ),
        endotoxin_eu_per_ml=r.decimal(
            cert_doc, "endotoxin_eu_per_ml", c, low=Decimal(0), high=Decimal(100000), unit=" EU/mL"
        ),
        cell_count_pct_of_label=r.decimal(
            cert_doc, "cell_count_pct_of_label", c, low=Decimal(0), high=Decimal(1000), unit="%"
        ),
        cell_count_measured=measured_count,
        cell_count_labelled=labelled_count,
        microbiology={
            o: r.choice(micro_doc, o, c + ".microbiology", ("negative", "positive"))
            for o in MICROBIOLOGY
        },
        issuer=r.text(cert_doc, "issuer", c, max_length=200),
        third_party_retest=r.boolean(cert_doc, "third_party_retest", c),
    )
    msc_source = r.choice(
        product_doc,
        "msc_source",
        q,
        ("allogeneic_umbilical_cord", "allogeneic_bone_marrow", "allogeneic_other", "autologous"),
    )

    # Order
    o = "order"
    planned_start = r.datetime(order_doc, "planned_start", o, required=True)
    antiplatelet_doc = r.obj(order_doc, "antiplatelet")
    dose_mg = r.decimal(antiplatelet_doc, "dose_mg", "order.antiplatelet", unit=" mg/day")
    if dose_mg is not None and not ANTIPLATELET_DOSE_MIN_MG <= dose_mg <= ANTIPLATELET_DOSE_MAX_MG:
        r.error("order.antiplatelet.dose_mg", f"{dose_mg} mg/day is outside 75–100 mg/day (B-AP-1)")
        dose_mg = None
    order_fields = dict(
        dose_cells=r.integer(order_doc, "dose_cells", o, low=1, high=10**12),
        drop_factor_gtt_per_ml=r.integer(order_doc, "drop_factor_gtt_per_ml", o, low=1, high=100),
        antiplatelet_drug=r.choice(
            antiplatelet_doc, "drug", "order.antiplatelet", ("aspirin", "clopidogrel")
        ),
        antiplatelet_dose_mg=dose_mg,
        antiplatelet_below_floor_override=r.boolean(
            antiplatelet_doc, "below_floor_override", "order.antiplatelet"
        )
        is True,
        cyclophosphamide_preconditioning=r.boolean(
            order_doc, "cyclophosphamide_preconditioning", o
        ),
        out_of_fridge_at=r.datetime(order_doc, "out_of_fridge_at", o),
        actual_infusion_end=r.datetime(order_doc, "actual_infusion_end", o),
    )

    # B-CONSENT-1: null or absent = not recorded (yet); an object must be complete.
    consent = None
    consent_doc = root.get("consent")
    if isinstance(consent_doc, Mapping):
        consenter = r.choice(consent_doc, "consenter", "consent", CONSENTERS)
        consented_on = r.date(consent_doc, "consented_on", "consent", required=True)
        form_version = r.text(consent_doc, "form_version", "consent", max_length=60)
        if consent_doc.get("consenter") is None:
            r.error("consent.consenter", "is required")
        raw_version = consent_doc.get("form_version")
        if form_version is None and (raw_version is None or isinstance(raw_version, str)):
            r.error("consent.form_version", "is required")  # absent, null or blank
        if consented_on is not None and dob is not None and consented_on < dob:
            r.error("consent.consented_on", "is before the patient's date of birth")
        if consenter is not None and consented_on is not None and form_version is not None:
            consent = ConsentInput(consenter, consented_on, form_version)
    elif consent_doc is not None:
        r.error("consent", "must be an object {consenter, consented_on, form_version} or null")

    # C-TIME-1 / B-CYC-1: a recorded end before the product was prepared is not a real end;
    # refused, so it can never move the cyclophosphamide hold earlier than planned.
    actual_end = order_fields["actual_infusion_end"]
    if actual_end is not None and preparation_time is not None and actual_end <= preparation_time:
        r.error("order.actual_infusion_end", "is not after the product's preparation time")
    out_at = order_fields["out_of_fridge_at"]
    if out_at is not None and preparation_time is not None and out_at < preparation_time:
        r.error("order.out_of_fridge_at", "is before the product's preparation time")
    if dob is not None and planned_start is not None and zone is not None:
        if dob > planned_start.astimezone(zone).date():
            r.error("patient.date_of_birth", "is after the planned infusion day")
        elif planned_start.astimezone(zone).year - dob.year > 150:
            r.error("patient.date_of_birth", "gives an age over 150 years")

    if r.errors:
        return None, r.errors
    assert kg is not None and weight_date is not None and volume is not None
    assert preparation_time is not None and planned_start is not None and isinstance(zone_name, str)
    plan_input = PlanInput(
        ward_time_zone=zone_name,
        patient=PatientInput(
            date_of_birth=dob, weight=BodyWeight(kg, weight_date), **patient_fields
        ),
        product=ProductInput(
            preparation_time=preparation_time,
            suspension_volume_ml=volume,
            msc_source=msc_source,
            certificate=certificate,
        ),
        order=OrderInput(planned_start=planned_start, **order_fields),
        consent=consent,
    )
    return plan_input, []


def _covered(path: str, reported: list[str]) -> bool:
    return any(
        p == "" or path == p or path.startswith(p + ".") or path.startswith(p + "[")
        for p in reported
    )


def _validate_and_parse(doc: Any) -> tuple[PlanInput | None, list[FieldError]]:
    # First, before the schema compares or anything formats a number: a number beyond
    # 30 significant digits or an exponent of ±20 is refused where it stands.
    refused = [FieldError(path, numbers.MESSAGE) for path in numbers.unbounded(doc, "", _join)]
    if refused:
        return None, refused
    schema_errors = _schema_errors(doc)
    parsed, semantic_errors = _parse(doc)
    reported = [e.path for e in schema_errors]
    extra = [e for e in semantic_errors if not _covered(e.path, reported)]
    unique = {(e.path, e.message): e for e in extra}
    errors = schema_errors + list(unique.values())
    return (parsed if not errors else None), errors


def validate_plan_input(doc: Any) -> list[FieldError]:
    """Field errors of a plan-input document; [] when valid. Never raises."""
    return _validate_and_parse(doc)[1]


def parse_plan_input(doc: Any) -> PlanInput:
    """A ``PlanInput`` from a valid document; ``PlanInputError`` (with ``.errors``) otherwise."""
    parsed, errors = _validate_and_parse(doc)
    if errors or parsed is None:
        raise PlanInputError(errors)
    return parsed


def plan_from_document(
    doc: Any, settings: ProtocolSettings = DEFAULT_SETTINGS
) -> tuple[InfusionPlan | None, list[FieldError]]:
    """``(plan, [])`` for a valid document, ``(None, errors)`` otherwise."""
    parsed, errors = _validate_and_parse(doc)
    if errors or parsed is None:
        return None, errors
    return build_plan(parsed, settings), []


def plan_from_json(text: str | bytes, settings: ProtocolSettings = DEFAULT_SETTINGS):
    """Parse JSON text keeping decimals exact; ``(plan, errors)`` like ``plan_from_document``."""
    try:
        # Decimals kept exact; a number literal too long or beyond an exponent of ±20 is
        # not read at all (core.numbers) and becomes a field error.
        doc = numbers.loads(text)
    except (ValueError, TypeError) as exc:
        return None, [FieldError("", _short(f"not valid JSON: {exc}"))]
    except RecursionError:  # e.g. "[[[[…]]]]" nested deeper than Python's recursion limit
        return None, [FieldError("", "not valid JSON: nested too deeply")]
    return plan_from_document(doc, settings)
