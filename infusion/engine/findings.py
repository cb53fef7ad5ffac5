"""Findings (the engine's verdicts) and JSON conversion shared by every result type.

A finding names the rule it applies (``rule_id``), the consensus recommendation and
GRADE grade taken from ``RULES`` (never typed by hand), a domain ``status`` (e.g.
``not_recommended``, ``fail``, ``refused``), a uniform ``severity`` for display, and a
one-line English ``reason`` rendered from ``reason_template % reason_params`` so that a
Django layer can translate the template and re-render it with the same params.

Severity, from least to most serious:

- ``info``: nothing to do beyond what the plan says;
- ``notice``: something the clinician should read (e.g. child, concurrent infection);
- ``warning``: act on it (late in the cold-chain window, stale weight, pre-conditioning);
- ``unknown``: data needed to decide is missing; the verdict cannot be given;
- ``block``: the rule says no (not recommended, rejected product, refused plan, bad data).
"""

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .rules import RULES

SEVERITIES = ("info", "notice", "warning", "unknown", "block")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def to_jsonable(value: Any) -> Any:
    """Convert engine values to JSON-compatible ones.

    Decimal → plain decimal string (no exponent, keeps the entered precision);
    Fraction → ``"n/d"`` (or ``"n"``); datetime/date → ISO 8601; timedelta → seconds.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Serializable):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, Fraction):
        return fraction_str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"Cannot convert {type(value).__name__} to JSON")


class Serializable:
    """Mixin: ``to_dict()`` for dataclasses, plus any keys from ``_extra_dict()``."""

    def to_dict(self) -> dict[str, Any]:
        out = {
            f.name: to_jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.metadata.get("serialize", True)
        }
        out.update({k: to_jsonable(v) for k, v in self._extra_dict().items()})
        return out

    def _extra_dict(self) -> dict[str, Any]:
        return {}


def decimal_str(value: Decimal) -> str:
    """Plain notation: ``Decimal("1E+2")`` → ``"100"``; ``Decimal("95.0")`` stays ``"95.0"``."""
    return format(value, "f")


def fraction_str(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def format_datetime(value: datetime) -> str:
    """ISO 8601 to the minute (to the second when seconds are not zero)."""
    spec = "minutes" if value.second == 0 and value.microsecond == 0 else "seconds"
    return value.isoformat(timespec=spec)


def format_param(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, Fraction):
        return fraction_str(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return "unknown"
    return str(value)


@dataclasses.dataclass(frozen=True)
class Finding(Serializable):
    rule_id: str
    status: str
    severity: str
    reason: str
    reason_template: str
    reason_params: dict[str, str]
    recommendation: str | None
    grade: str | None
    source_section: str
    requires_acknowledgement: bool = False
    missing: tuple[str, ...] = ()  # input fields whose absence made this "unknown"/"missing"

    @property
    def citation(self) -> str | None:
        """``"R7, 2C"`` or None."""
        return f"{self.recommendation}, {self.grade}" if self.recommendation else None

    def _extra_dict(self) -> dict[str, Any]:
        return {"citation": self.citation}


def make_finding(
    rule_id: str,
    status: str,
    severity: str,
    template: str,
    params: Mapping[str, Any] | None = None,
    *,
    requires_acknowledgement: bool = False,
    missing: tuple[str, ...] = (),
) -> Finding:
    """Build a finding; ``template`` must be a ``gettext_noop("...")`` literal.

    Templates are always %-formatted with a mapping (even an empty one), so a literal
    percent sign is written ``%%`` in every template, as Django's python-format expects.
    """
    if severity not in SEVERITY_RANK:
        raise ValueError(f"Unknown severity {severity!r}")
    rule = RULES[rule_id]
    str_params = {key: format_param(value) for key, value in (params or {}).items()}
    return Finding(
        rule_id=rule_id,
        status=status,
        severity=severity,
        reason=template % str_params,
        reason_template=template,
        reason_params=str_params,
        recommendation=rule.recommendation,
        grade=rule.grade,
        source_section=rule.section,
        requires_acknowledgement=requires_acknowledgement,
        missing=missing,
    )
