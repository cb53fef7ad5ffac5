"""Ward-configurable protocol values, validated against the consensus where it sets bounds."""

from dataclasses import dataclass
from decimal import Decimal

from .findings import Serializable


class ProtocolSettingsError(ValueError):
    """A setting is outside what the consensus (or common sense) allows."""


@dataclass(frozen=True)
class ProtocolSettings(Serializable):
    # B-ADM-1 (§3.7): "generally infused completely within 8–12 h" of preparation. The
    # ward picks where, inside 8–12 h, it starts warning and where it refuses.
    late_warning_minutes: int = 8 * 60
    hard_limit_minutes: int = 12 * 60
    # B-ADM-2 (§3.7): 10–20 min at room temperature before the infusion.
    room_temperature_min_minutes: int = 10
    room_temperature_max_minutes: int = 20
    # B-AP-1 (§3.8) says only "caution with bleeding tendency". The platelet threshold
    # that counts as a bleeding tendency is the WARD's choice, not the consensus's.
    bleeding_platelet_threshold_10e9_per_l: Decimal = Decimal(50)
    # B-AP-1: below this ward hard floor the antiplatelet course is not planned at all
    # (unless overridden per C-OVR-1); between the floor and the bleeding threshold it is
    # planned with a caution. The ward's choice (issue 19 default 20 × 10⁹/L); the
    # consensus says only "caution with bleeding tendency".
    antiplatelet_platelet_floor_10e9_per_l: Decimal = Decimal(20)
    # B-IND-5 (§3.12②) names "older adults" (老年患者) without an age; the usual Chinese
    # definition of 老年人 is ≥ 60 years. The ward may choose another age.
    older_adult_from_years: int = 60
    # B-CI-1 (§3.12③): the source grades only severe PH (> 70 mmHg). A PASP above this
    # upper limit of normal and ≤ 70 mmHg is read as mild–moderate PH (the usual Chinese
    # echo grading); the limit is the ward's (default 35 mmHg).
    pasp_normal_max_mmhg: Decimal = Decimal(35)
    # Platelet counts older than this (days before the infusion day) count as unknown.
    # The ward's choice; the consensus is silent.
    platelet_max_age_days: int = 7
    # Gravity infusion sets: drops per mL when the order does not state one.
    default_drop_factor_gtt_per_ml: int = 20
    # B-CYC-1 (§3.8): no cyclophosphamide within 48 h after the infusion (≥ 48 h allowed).
    cyclophosphamide_hold_hours: int = 48
    # B-AP-1 (§3.8): "for 2 weeks" = 14 calendar days including the day before infusion.
    antiplatelet_course_days: int = 14
    # B-DOSE-1: a body weight older than this (days before the infusion day) is stale.
    weight_max_age_days: int = 30
    # B-PREMED-1: dexamethasone due this long before the planned start.
    premedication_lead_minutes: int = 30
    # B-FU-1: months after the infusion for SLEDAI/BILAG/physician global assessment.
    assessment_months: tuple[int, ...] = (1, 3, 6, 12)

    def __post_init__(self) -> None:
        def check_int(name: str, low: int, high: int) -> int:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ProtocolSettingsError(f"{name} must be an integer, got {value!r}")
            if not low <= value <= high:
                raise ProtocolSettingsError(f"{name}={value} is outside {low}..{high}")
            return value

        late = check_int("late_warning_minutes", 8 * 60, 12 * 60)
        hard = check_int("hard_limit_minutes", 8 * 60, 12 * 60)
        if late > hard:
            raise ProtocolSettingsError(
                f"late_warning_minutes={late} must not exceed hard_limit_minutes={hard}"
            )
        low = check_int("room_temperature_min_minutes", 10, 20)
        high = check_int("room_temperature_max_minutes", 10, 20)
        if low > high:
            raise ProtocolSettingsError(
                f"room_temperature_min_minutes={low} exceeds room_temperature_max_minutes={high}"
            )
        threshold = self.bleeding_platelet_threshold_10e9_per_l
        if not isinstance(threshold, Decimal) or not threshold.is_finite() or threshold < 0:
            raise ProtocolSettingsError(
                f"bleeding_platelet_threshold_10e9_per_l must be a finite Decimal ≥ 0, got {threshold!r}"
            )
        floor = self.antiplatelet_platelet_floor_10e9_per_l
        if (
            not isinstance(floor, Decimal)
            or not floor.is_finite()
            or floor < 0
            or (threshold.is_finite() and floor > threshold)
        ):
            raise ProtocolSettingsError(
                "antiplatelet_platelet_floor_10e9_per_l must be a finite Decimal between 0 and "
                f"the bleeding threshold {threshold}, got {floor!r}"
            )
        check_int("older_adult_from_years", 50, 90)
        normal = self.pasp_normal_max_mmhg
        if not isinstance(normal, Decimal) or not normal.is_finite() or not 20 <= normal < 70:
            raise ProtocolSettingsError(
                f"pasp_normal_max_mmhg must be a Decimal in 20..70 (exclusive), got {normal!r}"
            )
        check_int("platelet_max_age_days", 0, 365)
        check_int("default_drop_factor_gtt_per_ml", 1, 100)
        # The consensus allows cyclophosphamide "48 h or longer" after: never shorter.
        check_int("cyclophosphamide_hold_hours", 48, 24 * 30)
        check_int("antiplatelet_course_days", 1, 90)
        check_int("weight_max_age_days", 0, 365)
        check_int("premedication_lead_minutes", 1, 24 * 60)
        months = self.assessment_months
        if (
            not isinstance(months, tuple)
            or not months
            or any(
                isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12 for m in months
            )
            or list(months) != sorted(set(months))
        ):
            raise ProtocolSettingsError(
                f"assessment_months must be strictly ascending integers in 1..12, got {months!r}"
            )


DEFAULT_SETTINGS = ProtocolSettings()
