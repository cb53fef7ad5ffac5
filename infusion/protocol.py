"""The ward's protocol values, read from Django settings at call time.

The engine takes them as a `ProtocolSettings` (validated against the consensus there);
the bedside chart's vital-sign ranges and check interval are data too, with defaults
here that a ward overrides in its settings:

    INFUSION_VITAL_RANGES = {"pulse_per_min": ("50", "110"), ...}
    INFUSION_VITALS_INTERVAL_MINUTES = 15

The default ranges are the usual adult ward limits; the consensus (B-ADM-5) says only
"monitor respiration, pulse, blood pressure and SpO₂". SpO₂ ≥ 92% matches the trial's
organ-function criterion (A-ORG-6); 37.3 °C is the usual Chinese fever threshold.
"""

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from infusion.engine import ProtocolSettings


def protocol_settings() -> ProtocolSettings:
    return ProtocolSettings(
        late_warning_minutes=settings.COLD_CHAIN_WARN_HOURS * 60,
        hard_limit_minutes=settings.COLD_CHAIN_HARD_LIMIT_HOURS * 60,
        bleeding_platelet_threshold_10e9_per_l=Decimal(settings.BLEEDING_PLATELET_THRESHOLD),
        # Issue 19 (B-AP-1, B-IND-5, B-CI-1); defaults here too, for settings without them.
        antiplatelet_platelet_floor_10e9_per_l=Decimal(
            getattr(settings, "ANTIPLATELET_PLATELET_FLOOR", 20)
        ),
        older_adult_from_years=getattr(settings, "OLDER_ADULT_FROM_YEARS", 60),
        pasp_normal_max_mmhg=Decimal(getattr(settings, "PASP_NORMAL_MAX_MMHG", 35)),
    )


def ward_zone_name() -> str:
    return settings.TIME_ZONE


def ward_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class VitalRange:
    field: str
    label: str
    unit: str
    low: Decimal | None  # inclusive; None = no lower limit
    high: Decimal | None  # inclusive
    plausible_low: Decimal  # outside these the value is refused as a typo
    plausible_high: Decimal

    def out_of_range(self, value) -> bool:
        if value is None:
            return False
        value = Decimal(value)
        return (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        )


# field: (label, unit, low, high, plausible low, plausible high)
_DEFAULT_VITALS = {
    "respiration_per_min": (_("Respiration"), "/min", "12", "20", "0", "80"),
    "pulse_per_min": (_("Pulse"), "/min", "60", "100", "0", "300"),
    "systolic_mmhg": (_("Systolic BP"), "mmHg", "90", "140", "0", "300"),
    "diastolic_mmhg": (_("Diastolic BP"), "mmHg", "60", "90", "0", "200"),
    "spo2_pct": (_("SpO₂"), "%", "92", None, "0", "100"),
    "temperature_c": (_("Temperature"), "°C", "36.0", "37.3", "25", "45"),
}
VITAL_FIELDS = tuple(_DEFAULT_VITALS)


def vital_ranges() -> dict[str, VitalRange]:
    overrides = getattr(settings, "INFUSION_VITAL_RANGES", {}) or {}
    out = {}
    for name, (label, unit, low, high, p_low, p_high) in _DEFAULT_VITALS.items():
        if name in overrides:
            low, high = overrides[name]
        out[name] = VitalRange(
            field=name,
            label=label,
            unit=unit,
            low=Decimal(low) if low is not None else None,
            high=Decimal(high) if high is not None else None,
            plausible_low=Decimal(p_low),
            plausible_high=Decimal(p_high),
        )
    return out


def vitals_interval_minutes() -> int:
    """Planned vital-sign checks during the infusion (B-ADM-5): every this many minutes."""
    return int(getattr(settings, "INFUSION_VITALS_INTERVAL_MINUTES", 15))


# A chart time may be this far in the future (clocks of tablets drift); beyond it is a typo.
CLOCK_TOLERANCE_MINUTES = 5
# Cyclophosphamide within this many days before the infusion start counts as
# pre-conditioning (B-PRE-1, R5 2C): ward choice, the consensus gives no window.
PRECONDITIONING_WINDOW_DAYS = 7
