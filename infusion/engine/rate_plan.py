"""Infusion rate plan (B-ADM-4) on an infusion set without a filter membrane (B-ADM-3).

The consensus (§3.7): no more than 2 mL/min for the first 5–10 min, then increase
gradually to 4 mL/min, and complete the infusion in 30–60 min.

Algorithm (V = suspension volume in mL, exact rational arithmetic throughout):

- Largest feasible volume: 2 mL/min × 5 min + 4 mL/min × 55 min = 230 mL. V > 230 mL is
  refused, naming 230 mL; V ≤ 0 is refused.
- 0 < V ≤ 90 mL ("small volumes are slowed to reach 30 min"): three 10-minute phases at
  r, 1.5 r and 2 r mL/min with r = V / 45, so the infusion lasts exactly 30 min. At
  V = 90 this is 2 → 3 → 4 mL/min; below 90 mL the final rate stays under 4 mL/min,
  because reaching 4 mL/min would finish in under 30 min (the source does not say which
  constraint wins; we keep the 30-minute minimum).
- 90 < V ≤ 210 mL: 2 mL/min for 10 min, 3 mL/min for 10 min (the "gradual" step), then
  4 mL/min for (V − 50) / 4 min. Total 20 + (V − 50)/4 min, in (30, 60].
- 210 < V ≤ 220 mL: total fixed at 60 min; the first phase shortens to
  (230 − V) / 2 min (10 → 5), 3 mL/min for 10 min, 4 mL/min for the rest.
- 220 < V ≤ 230 mL: total 60 min; 2 mL/min for 5 min, 3 mL/min for 230 − V min (10 → 0;
  the intermediate step disappears at exactly 230 mL), 4 mL/min for the rest.

Every phase's volume is rate × duration exactly, and the volumes sum exactly to V
(property-tested). Phase 1 is always ≤ 2 mL/min for 5–10 min, no rate exceeds
4 mL/min, rates never decrease, and the total is 30–60 min.

Exact values are kept as fractions (``*_exact`` keys, ``"n/d"`` strings). Display values
are rounded half-even: mL/min to 0.01, mL/h (pump) to 0.1, drops/min (gravity set,
rate × drop factor) to a whole drop, minutes and mL to 0.01. Because 2 and 4 mL/min are
representable at each of those resolutions (for a whole-number drop factor), a rounded
display value never exceeds a limit. ``duration_s`` is an integer only when the
duration is a whole number of seconds, otherwise None.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from .findings import Finding, Serializable, fraction_str, make_finding
from .i18n import gettext_noop
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings

INITIAL_RATE_MAX_ML_PER_MIN = Fraction(2)
INITIAL_PHASE_MIN_MIN = Fraction(5)
INITIAL_PHASE_MAX_MIN = Fraction(10)
FINAL_RATE_MAX_ML_PER_MIN = Fraction(4)
TOTAL_MIN_MIN = Fraction(30)
TOTAL_MAX_MIN = Fraction(60)
MAX_FEASIBLE_VOLUME_ML = (
    INITIAL_RATE_MAX_ML_PER_MIN * INITIAL_PHASE_MIN_MIN
    + FINAL_RATE_MAX_ML_PER_MIN * (TOTAL_MAX_MIN - INITIAL_PHASE_MIN_MIN)
)  # 230 mL
_STEP_RATE = Fraction(3)  # the intermediate, "gradual" step


def _round(value: Fraction, places: str) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_EVEN)


def _short(value: Fraction) -> str:
    """Compact display for reasons: 0.01 resolution (0.0001 below 0.1), no trailing zeros."""
    rounded = _round(value, "0.01" if value >= Fraction(1, 10) else "0.0001")
    return format(rounded.normalize(), "f")


def _as_fraction(volume_ml: Any) -> Fraction:
    if isinstance(volume_ml, bool) or not isinstance(volume_ml, int | Decimal | Fraction):
        raise TypeError(
            f"volume_ml must be an int, Decimal or Fraction (never float), got {type(volume_ml).__name__}"
        )
    if isinstance(volume_ml, Decimal) and not volume_ml.is_finite():
        raise ValueError(f"volume_ml must be finite, got {volume_ml}")
    return Fraction(volume_ml)


@dataclass(frozen=True)
class RatePhase(Serializable):
    number: int
    start_offset_min_exact: Fraction
    duration_min_exact: Fraction
    rate_ml_per_min_exact: Fraction
    volume_ml_exact: Fraction
    drop_factor_gtt_per_ml: int

    @property
    def duration_s(self) -> int | None:
        seconds = self.duration_min_exact * 60
        return int(seconds) if seconds.denominator == 1 else None

    @property
    def drops_per_min(self) -> int:
        return int(_round(self.rate_ml_per_min_exact * self.drop_factor_gtt_per_ml, "1"))

    def _extra_dict(self) -> dict[str, Any]:
        return {
            "start_offset_min": _round(self.start_offset_min_exact, "0.01"),
            "duration_min": _round(self.duration_min_exact, "0.01"),
            "duration_s": self.duration_s,
            "rate_ml_per_min": _round(self.rate_ml_per_min_exact, "0.01"),
            "rate_ml_per_h": _round(self.rate_ml_per_min_exact * 60, "0.1"),
            "drops_per_min": self.drops_per_min,
            "volume_ml": _round(self.volume_ml_exact, "0.01"),
        }


@dataclass(frozen=True)
class RatePlan(Serializable):
    status: str  # ok | refused
    volume_ml_exact: Fraction
    drop_factor_gtt_per_ml: int
    phases: tuple[RatePhase, ...]
    total_duration_min_exact: Fraction | None
    max_feasible_volume_ml: int
    findings: tuple[Finding, ...]

    def _extra_dict(self) -> dict[str, Any]:
        total = self.total_duration_min_exact
        return {
            "volume_ml": _round(self.volume_ml_exact, "0.01"),
            "total_duration_min": _round(total, "0.01") if total is not None else None,
        }


def _phases_for(volume: Fraction) -> list[tuple[Fraction, Fraction]]:
    """(rate mL/min, duration min) per phase; see the module docstring."""
    if volume <= 90:
        base = volume / 45
        ten = Fraction(10)
        return [(base, ten), (base * Fraction(3, 2), ten), (base * 2, ten)]
    if volume <= 210:
        return [
            (Fraction(2), Fraction(10)),
            (_STEP_RATE, Fraction(10)),
            (Fraction(4), (volume - 50) / 4),
        ]
    if volume <= 220:
        first = (230 - volume) / 2
        return [(Fraction(2), first), (_STEP_RATE, Fraction(10)), (Fraction(4), 60 - first - 10)]
    step = 230 - volume
    phases = [(Fraction(2), Fraction(5))]
    if step > 0:
        phases.append((_STEP_RATE, step))
    phases.append((Fraction(4), 55 - step))
    return phases


def rate_plan(
    volume_ml: int | Decimal | Fraction,
    drop_factor_gtt_per_ml: int | None = None,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
) -> RatePlan:
    volume = _as_fraction(volume_ml)
    drop_factor = drop_factor_gtt_per_ml or settings.default_drop_factor_gtt_per_ml
    if isinstance(drop_factor, bool) or not isinstance(drop_factor, int) or drop_factor <= 0:
        raise ValueError(f"drop factor must be a positive integer, got {drop_factor!r}")
    filter_finding = make_finding(
        "B-ADM-3",
        "instruction",
        "info",
        gettext_noop(
            "Use an infusion set WITHOUT a filter membrane (cells aggregate on filters and block "
            "the line)."
        ),
    )
    # Show the volume as entered when it is a decimal; round a non-decimal fraction.
    shown_volume = (
        Decimal(volume_ml) if isinstance(volume_ml, int | Decimal) else _round(volume, "0.01")
    )
    if volume <= 0 or volume > MAX_FEASIBLE_VOLUME_ML:
        if volume <= 0:
            reason = make_finding(
                "B-ADM-4",
                "refused",
                "block",
                gettext_noop("Suspension volume %(volume)s mL: must be greater than 0 mL."),
                {"volume": shown_volume},
            )
        else:
            reason = make_finding(
                "B-ADM-4",
                "refused",
                "block",
                gettext_noop(
                    "Suspension volume %(volume)s mL cannot be infused within 60 min at ≤ 2 mL/min "
                    "for the first 5 min and ≤ 4 mL/min after; the largest feasible volume is "
                    "%(max)s mL."
                ),
                {"volume": shown_volume, "max": fraction_str(MAX_FEASIBLE_VOLUME_ML)},
            )
        return RatePlan(
            status="refused",
            volume_ml_exact=volume,
            drop_factor_gtt_per_ml=drop_factor,
            phases=(),
            total_duration_min_exact=None,
            max_feasible_volume_ml=int(MAX_FEASIBLE_VOLUME_ML),
            findings=(reason, filter_finding),
        )
    phases = []
    offset = Fraction(0)
    for number, (rate, duration) in enumerate(_phases_for(volume), start=1):
        phases.append(
            RatePhase(
                number=number,
                start_offset_min_exact=offset,
                duration_min_exact=duration,
                rate_ml_per_min_exact=rate,
                volume_ml_exact=rate * duration,
                drop_factor_gtt_per_ml=drop_factor,
            )
        )
        offset += duration
    steps = " → ".join(
        f"{_short(p.rate_ml_per_min_exact)} mL/min × {_short(p.duration_min_exact)} min"
        for p in phases
    )
    findings = [
        make_finding(
            "B-ADM-4",
            "ok",
            "info",
            gettext_noop(
                "%(volume)s mL over %(total)s min: %(steps)s (first 5–10 min ≤ 2 mL/min, "
                "then stepped up, never above 4 mL/min, total 30–60 min)."
            ),
            {
                "volume": shown_volume,
                "total": _short(offset),
                "steps": steps,
            },
        ),
        filter_finding,
    ]
    if any(p.rate_ml_per_min_exact * drop_factor < 1 for p in phases):
        findings.append(
            make_finding(
                "B-ADM-4",
                "use_pump",
                "notice",
                gettext_noop(
                    "Below 1 drop/min with a %(drop_factor)s gtt/mL set for %(volume)s mL: use an "
                    "infusion pump."
                ),
                {"drop_factor": drop_factor, "volume": shown_volume},
            )
        )
    return RatePlan(
        status="ok",
        volume_ml_exact=volume,
        drop_factor_gtt_per_ml=drop_factor,
        phases=tuple(phases),
        total_duration_min_exact=offset,
        max_feasible_volume_ml=int(MAX_FEASIBLE_VOLUME_ML),
        findings=tuple(findings),
    )
