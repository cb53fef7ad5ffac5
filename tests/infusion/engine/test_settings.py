"""ProtocolSettings: the ward's choices, validated against the consensus bounds."""

from decimal import Decimal

import pytest

from infusion.engine import ProtocolSettings, ProtocolSettingsError


def test_the_defaults():
    settings = ProtocolSettings()
    assert (settings.late_warning_minutes, settings.hard_limit_minutes) == (480, 720)
    assert (settings.room_temperature_min_minutes, settings.room_temperature_max_minutes) == (
        10,
        20,
    )
    assert settings.bleeding_platelet_threshold_10e9_per_l == Decimal(50)
    assert settings.default_drop_factor_gtt_per_ml == 20
    assert settings.cyclophosphamide_hold_hours == 48
    assert settings.antiplatelet_course_days == 14
    assert settings.weight_max_age_days == 30
    assert settings.to_dict()["bleeding_platelet_threshold_10e9_per_l"] == "50"
    # Issue 19 defaults: B-AP-1 floor 20 × 10⁹/L, B-IND-5 older adult ≥ 60, PASP ≤ 35 normal.
    assert settings.antiplatelet_platelet_floor_10e9_per_l == Decimal(20)
    assert settings.older_adult_from_years == 60
    assert settings.pasp_normal_max_mmhg == Decimal(35)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"late_warning_minutes": 479},
        {"hard_limit_minutes": 721},
        {"late_warning_minutes": 600, "hard_limit_minutes": 599},
        {"room_temperature_min_minutes": 9},
        {"room_temperature_max_minutes": 21},
        {"room_temperature_min_minutes": 15, "room_temperature_max_minutes": 12},
        {"cyclophosphamide_hold_hours": 47},
        {"bleeding_platelet_threshold_10e9_per_l": Decimal(-1)},
        {"bleeding_platelet_threshold_10e9_per_l": 50},
        {"default_drop_factor_gtt_per_ml": 0},
        {"late_warning_minutes": True},
        {"assessment_months": (6, 3)},
        {"assessment_months": (1, 13)},
        # Issue 19: the B-AP-1 floor (never above the bleeding threshold), the B-IND-5
        # older-adult age, the B-CI-1 upper limit of a normal PASP.
        {"antiplatelet_platelet_floor_10e9_per_l": Decimal(51)},
        {"antiplatelet_platelet_floor_10e9_per_l": Decimal(-1)},
        {"bleeding_platelet_threshold_10e9_per_l": Decimal(19)},
        {"older_adult_from_years": 49},
        {"older_adult_from_years": 91},
        {"pasp_normal_max_mmhg": Decimal(70)},
        {"pasp_normal_max_mmhg": Decimal(19)},
    ],
)
def test_it_refuses_values_outside_the_bounds(kwargs):
    with pytest.raises(ProtocolSettingsError):
        ProtocolSettings(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"late_warning_minutes": 480, "hard_limit_minutes": 480},
        {"late_warning_minutes": 720, "hard_limit_minutes": 720},
        {"room_temperature_min_minutes": 20, "room_temperature_max_minutes": 20},
        {"cyclophosphamide_hold_hours": 72},
        {"bleeding_platelet_threshold_10e9_per_l": Decimal(30)},
        {"antiplatelet_platelet_floor_10e9_per_l": Decimal(50)},
        {"antiplatelet_platelet_floor_10e9_per_l": Decimal(0)},
        {"older_adult_from_years": 65},
        {"pasp_normal_max_mmhg": Decimal(40)},
    ],
)
def test_it_accepts_values_inside_the_bounds(kwargs):
    ProtocolSettings(**kwargs)
