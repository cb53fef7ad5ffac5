"""Issue 19 in the ward: the B-AP-1 platelet floor with its C-OVR-1 override, and the
B-ADM-1 cold-chain deviation (pharmacist confirms viability, physician records a reasoned
deviation co-signed by a second physician), each audited and refused to the wrong user."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from infusion import services, verification
from infusion.models import CheckOverride, ColdChainDeviation, OrderKind
from infusion.services import ActionRefused
from tests.factories import PASSWORD, add_lab, add_weight
from tests.infusion.engine import example_doc

from .conftest import open_episode

pytestmark = pytest.mark.django_db


# --- B-AP-1: the ward's hard platelet floor ----------------------------------------------


@pytest.fixture
def thrombocytopenic_patient(patient, nurse):
    now = timezone.now()
    add_weight(patient, nurse, "60", when=now - timedelta(days=2))
    add_lab(patient, nurse, "platelets", 19, "10^9/L", when=now - timedelta(days=1))
    return patient


def test_b_ap_1_below_the_floor_no_antiplatelet_order_is_drafted_and_verification_passes(
    thrombocytopenic_patient, physician
):
    episode = open_episode(thrombocytopenic_patient, physician)
    assert episode.plan["antiplatelet"]["status"] == "withheld"
    assert not episode.orders.filter(kind=OrderKind.ANTIPLATELET).exists()
    stops, checks = verification.blocking_for(episode.pk)
    check = next(c for c in checks if c.key == "antiplatelet")
    assert check.status == "passed" and "below the ward floor" in check.reason
    assert check not in stops


def test_b_ap_1_a_course_below_the_floor_needs_a_second_physician(
    thrombocytopenic_patient, physician
):
    with pytest.raises(ActionRefused) as refused:
        open_episode(thrombocytopenic_patient, physician, antiplatelet_below_floor_override=True)
    assert refused.value.code == "override_required"
    assert "platelet floor" in refused.value.message


def test_b_ap_1_the_override_below_the_floor_is_recorded_audited_and_covers_verification(
    thrombocytopenic_patient, physician, physician2
):
    episode = open_episode(
        thrombocytopenic_patient,
        physician,
        antiplatelet_below_floor_override=True,
        override_reason="Antiphospholipid antibodies, thrombosis risk; MDT 12-06",
        second_physician=physician2,
    )
    assert episode.orders.filter(kind=OrderKind.ANTIPLATELET).exists()
    override = CheckOverride.objects.get(episode=episode)
    assert (override.check_key, override.second_signer) == ("antiplatelet", physician2)
    assert AuditEvent.objects.filter(action="antiplatelet_floor_override").exists()
    # The candidacy is recommended: no candidacy override is recorded for it.
    assert not AuditEvent.objects.filter(action="candidacy_override").exists()
    stops, checks = verification.blocking_for(episode.pk)
    check = next(c for c in checks if c.key == "antiplatelet")
    assert check.status == "failed" and check not in stops


# --- B-ADM-1: a reasoned deviation past the cold-chain hard limit ------------------------


@pytest.fixture
def late_episode(verified_episode, nurse):
    """A verified episode whose start slipped: starting now would end after the limit."""
    late = verified_episode.cold_chain_must_complete_by - timedelta(minutes=20)
    with time_machine.travel(late - timedelta(minutes=15), tick=False):
        services.infusion_record_received(
            episode=verified_episode, actor=nurse, at=late - timedelta(minutes=40)
        )
        services.infusion_record_out_of_fridge(
            episode=verified_episode, actor=nurse, at=late - timedelta(minutes=15)
        )
    verified_episode.refresh_from_db()
    return verified_episode, late


def _start(episode, nurse, at):
    with time_machine.travel(at, tick=False):
        return services.infusion_start(episode=episode, actor=nurse, at=at)


def _confirm(episode, pharmacist, **extra):
    return services.cold_chain_viability_confirm(
        episode=episode,
        actor=pharmacist,
        until=extra.pop("until", episode.cold_chain_must_complete_by + timedelta(hours=2)),
        note=extra.pop("note", "Viability 91% on re-count, cell lab 12-06"),
        password=PASSWORD,
    )


def _deviate(episode, physician, second):
    return services.cold_chain_deviation_record(
        episode=episode,
        actor=physician,
        reason="Patient's transfer delayed; product viable per the lab",
        second_physician=second,
        second_password=PASSWORD,
    )


def test_b_adm_1_past_the_hard_limit_the_start_is_refused_without_a_deviation(late_episode, nurse):
    episode, late = late_episode
    with pytest.raises(ActionRefused) as refused:
        _start(episode, nurse, late)
    assert refused.value.code == "cold_chain"


def test_b_adm_1_viability_then_a_reasoned_deviation_lets_the_start_proceed_audited(
    late_episode, nurse, pharmacist, physician, physician2
):
    episode, late = late_episode
    _confirm(episode, pharmacist)
    with pytest.raises(ActionRefused):  # the viability alone does not lift the refusal
        _start(episode, nurse, late)
    _deviate(episode, physician, physician2)
    result = _start(episode, nurse, late)
    assert any("deviation" in w for w in result.warnings)
    deviation = ColdChainDeviation.objects.get()
    assert (deviation.viability_by, deviation.recorded_by, deviation.second_signer) == (
        pharmacist,
        physician,
        physician2,
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"cold_chain_viability_confirm", "cold_chain_deviation"} <= actions


def test_b_adm_1_the_deviation_reaches_no_later_than_the_confirmed_time(
    late_episode, nurse, pharmacist, physician, physician2
):
    episode, late = late_episode
    _confirm(episode, pharmacist, until=episode.cold_chain_must_complete_by + timedelta(minutes=1))
    _deviate(episode, physician, physician2)
    with pytest.raises(ActionRefused) as refused:
        _start(episode, nurse, late)  # 100 mL take ~30 min: ends ~10 min past the limit
    assert refused.value.code == "cold_chain"


def test_b_adm_1_a_physician_cannot_record_a_deviation_before_the_viability_check(
    late_episode, physician, physician2
):
    episode, _late = late_episode
    with pytest.raises(ActionRefused) as refused:
        _deviate(episode, physician, physician2)
    assert refused.value.code == "no_viability"
    assert not ColdChainDeviation.objects.exists()


def test_b_adm_1_a_nurse_may_neither_confirm_viability_nor_record_a_deviation(
    late_episode, nurse, physician2, login
):
    episode, _late = late_episode
    with pytest.raises(PermissionDenied):
        _confirm(episode, nurse)
    with pytest.raises(PermissionDenied):
        _deviate(episode, nurse, physician2)
    client = login(nurse)
    for action in ("viability", "deviation"):
        response = client.post(f"/infusion/episodes/{episode.pk}/cold-chain/{action}/", {})
        assert response.status_code == 403
    assert not ColdChainDeviation.objects.exists()


def test_b_adm_1_a_pharmacist_may_not_record_the_deviation_nor_a_physician_the_viability(
    late_episode, pharmacist, physician, physician2
):
    episode, _late = late_episode
    with pytest.raises(PermissionDenied):
        _confirm(episode, physician)
    _confirm(episode, pharmacist)
    with pytest.raises(PermissionDenied):
        _deviate(episode, pharmacist, physician2)


def test_b_adm_1_a_viable_until_time_inside_the_limit_is_a_field_error(late_episode, pharmacist):
    episode, _late = late_episode
    with pytest.raises(ActionRefused) as refused:
        _confirm(episode, pharmacist, until=episode.cold_chain_must_complete_by)
    assert "until" in refused.value.field_errors
    assert not ColdChainDeviation.objects.exists()


# --- The plan API (issue 19): a float dose, an implausible weight ------------------------


def _post_plan(client, doc):
    return client.post("/api/infusion/plan", data=json.dumps(doc), content_type="application/json")


def test_a_float_dose_is_a_plain_field_error_without_python_repr(login, nurse):
    doc = example_doc()
    doc["order"]["dose_cells"] = 100000000.0
    response = _post_plan(login(nurse), doc)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "order.dose_cells"
    assert "whole number" in error["message"]
    assert "Decimal" not in error["message"] and "is not of type" not in error["message"]


@pytest.mark.parametrize(
    ("kg", "warned"), [("19.9", True), ("20", False), ("200", False), ("200.1", True)]
)
def test_an_implausible_adult_weight_is_a_warning_in_the_api(login, nurse, kg, warned):
    doc = example_doc()
    doc["patient"]["weight"]["kg"] = kg
    response = _post_plan(login(nurse), doc)
    assert response.status_code == 200
    statuses = [f["status"] for f in response.json()["dose"]["findings"]]
    assert ("implausible_weight" in statuses) is warned


def test_b_adm_1_the_episode_page_offers_each_step_to_its_role(
    late_episode, pharmacist, physician, nurse, login
):
    episode, _late = late_episode
    url = f"/infusion/episodes/{episode.pk}/"
    assert 'id="cold-chain-viability-form"' in login(pharmacist).get(url).content.decode()
    assert 'id="cold-chain"' not in login(nurse).get(url).content.decode()
    _confirm(episode, pharmacist)
    page = login(physician).get(url).content.decode()
    assert 'id="cold-chain-deviation-form"' in page
    assert "Viability 91% on re-count" in page
