"""B-CYC-1: no cyclophosphamide within 48 h after the MSC infusion; B-PRE-1 (R5 2C):
pre-conditioning before it is not recommended."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from infusion import services
from infusion.models import OrderStatus, SignatureMeaning
from tests.factories import PASSWORD
from tests.infusion.conftest import run_infusion

pytestmark = pytest.mark.django_db
HOLD = timedelta(hours=48)


def create(episode, physician, at, **kwargs):
    return services.cyclophosphamide_order_create(
        episode=episode, actor=physician, scheduled_at=at, dose_mg=Decimal("500"), **kwargs
    )


def test_before_the_infusion_ends_the_hold_runs_from_the_planned_end(verified_episode):
    assert verified_episode.cyc_hold_until == verified_episode.planned_end + HOLD
    check = services.cyclophosphamide_order_check(
        patient=verified_episode.patient,
        at=verified_episode.planned_end + HOLD - timedelta(minutes=1),
    )
    assert not check.allowed and check.hold_until == verified_episode.planned_end + HOLD


def test_at_47h59_after_the_actual_end_it_is_stopped_and_at_48h00_allowed(verified_episode, nurse):
    end = run_infusion(verified_episode, nurse, minutes=41)  # later than planned
    assert verified_episode.ended_at == end
    assert verified_episode.cyc_hold_until == end + HOLD  # moved to the actual end
    patient = verified_episode.patient
    stopped = services.cyclophosphamide_order_check(
        patient=patient, at=end + HOLD - timedelta(minutes=1)
    )
    assert not stopped.allowed
    assert stopped.hold_until == end + HOLD
    assert timezone.localtime(end + HOLD).strftime("%Y-%m-%d %H:%M") in stopped.message
    assert any(f.rule_id == "B-CYC-1" for f in stopped.findings)
    allowed = services.cyclophosphamide_order_check(patient=patient, at=end + HOLD)
    assert allowed.allowed


def test_an_order_inside_the_hold_is_stopped_with_the_hold_end_and_the_stop_is_audited(
    verified_episode, nurse, physician
):
    end = run_infusion(verified_episode, nurse)
    with pytest.raises(services.ActionRefused) as exc:
        create(verified_episode, physician, end + HOLD - timedelta(minutes=1))
    assert exc.value.code == "cyc_hold"
    assert timezone.localtime(end + HOLD).strftime("%H:%M") in exc.value.message
    assert not verified_episode.orders.filter(kind="cyclophosphamide").exists()
    event = AuditEvent.objects.get(action="cyclophosphamide_stopped")
    assert event.actor == physician and event.reason == "B-CYC-1"


def test_an_administration_inside_the_hold_is_stopped_and_at_48h_it_goes_ahead(
    verified_episode, nurse, physician, pharmacist
):
    end = run_infusion(verified_episode, nurse)
    order = create(verified_episode, physician, end + HOLD)
    services.order_sign(order=order, actor=physician, password=PASSWORD)
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    with time_machine.travel(end + HOLD - timedelta(minutes=1), tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            services.order_administer(order=order, actor=nurse)
        assert exc.value.code == "cyc_hold"
    assert AuditEvent.objects.filter(
        action="cyclophosphamide_stopped", object_id=str(order.pk)
    ).exists()
    with time_machine.travel(end + HOLD, tick=False):
        services.order_administer(order=order, actor=nurse)
    order.refresh_from_db()
    assert order.status == OrderStatus.ADMINISTERED


def test_during_the_infusion_it_is_stopped(verified_episode, physician):
    start = verified_episode.planned_start
    check = services.cyclophosphamide_order_check(
        patient=verified_episode.patient, at=start + timedelta(minutes=5)
    )
    assert not check.allowed


def test_an_override_needs_a_reason_and_a_second_physician_with_their_password(
    verified_episode, nurse, physician, physician2, pharmacist
):
    end = run_infusion(verified_episode, nurse)
    at = end + timedelta(hours=24)
    with pytest.raises(services.ActionRefused):
        create(verified_episode, physician, at, override_reason="", second_physician=physician2)
    with pytest.raises(services.ActionRefused):
        create(verified_episode, physician, at, override_reason="Severe NPSLE flare")
    with pytest.raises(services.ActionRefused) as exc:
        create(
            verified_episode,
            physician,
            at,
            override_reason="Severe NPSLE flare",
            second_physician=physician,
            second_password=PASSWORD,
        )
    assert exc.value.code == "second_physician"
    with pytest.raises(services.ActionRefused) as exc:
        create(
            verified_episode,
            physician,
            at,
            override_reason="Severe NPSLE flare",
            second_physician=nurse,
            second_password=PASSWORD,
        )
    assert exc.value.code == "second_physician"
    with pytest.raises(services.ActionRefused) as exc:
        create(
            verified_episode,
            physician,
            at,
            override_reason="Severe NPSLE flare",
            second_physician=physician2,
            second_password="not-it",
        )
    assert exc.value.code == "password"
    order = create(
        verified_episode,
        physician,
        at,
        override_reason="Severe NPSLE flare",
        second_physician=physician2,
        second_password=PASSWORD,
    )
    override = order.signatures.get(meaning=SignatureMeaning.HOLD_OVERRIDE)
    assert override.signer == physician2
    event = AuditEvent.objects.get(action="cyclophosphamide_hold_override")
    assert event.actor == physician and event.reason == "Severe NPSLE flare"
    assert event.new_values["second_physician"] == physician2.pk
    # The overridden order goes through signing, verification and, given inside the hold,
    # administration; no step is stopped and each is audited.
    services.order_sign(order=order, actor=physician, password=PASSWORD)
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    with time_machine.travel(at + timedelta(minutes=5), tick=False):
        assert not services.cyclophosphamide_order_check(
            patient=verified_episode.patient, at=timezone.now()
        ).allowed  # still inside the 48 h hold
        given = services.order_administer(order=order, actor=nurse)
    order.refresh_from_db()
    assert order.status == OrderStatus.ADMINISTERED
    assert given.given_at == at + timedelta(minutes=5) and given.dose == Decimal("500")
    live = {s.meaning: s.signer for s in order.signatures.filter(voided_at__isnull=True)}
    assert live == {
        SignatureMeaning.PRESCRIBED: physician,
        SignatureMeaning.HOLD_OVERRIDE: physician2,
        SignatureMeaning.VERIFIED: pharmacist,
    }
    assert event.new_values["second_signature"] == override.pk
    assert event.new_values["hold_until"] is not None
    events = AuditEvent.objects.filter(object_id=str(order.pk))
    sign = events.get(action="order_sign")
    assert sign.actor == physician and sign.new_values["status"] == "signed"
    verify = events.get(action="order_verify")
    assert verify.actor == pharmacist and verify.new_values["status"] == "verified"
    status = events.get(action="order_status")
    assert status.actor == nurse and status.new_values["status"] == "administered"
    administered = AuditEvent.objects.get(action="order_administer", object_id=str(given.pk))
    assert administered.actor == nurse and administered.new_values["order"] == order.pk
    assert not AuditEvent.objects.filter(
        action="cyclophosphamide_stopped", object_id=str(order.pk)
    ).exists()


def test_editing_an_overridden_order_voids_the_second_signature(
    verified_episode, nurse, physician, physician2
):
    end = run_infusion(verified_episode, nurse)
    order = create(
        verified_episode,
        physician,
        end + timedelta(hours=30),
        override_reason="Flare",
        second_physician=physician2,
        second_password=PASSWORD,
    )
    services.order_edit(order=order, actor=physician, changes={"note": "over 1 h"}, reason="rate")
    assert not order.signatures.filter(voided_at__isnull=True).exists()
    with pytest.raises(services.ActionRefused):
        services.order_sign(order=order, actor=physician, password=PASSWORD)


def test_before_the_infusion_it_is_allowed_with_the_r5_preconditioning_warning(
    verified_episode, physician
):
    at = verified_episode.planned_start - timedelta(days=2)
    check = services.cyclophosphamide_order_check(patient=verified_episode.patient, at=at)
    assert check.allowed and check.preconditioning
    warning = next(f for f in check.findings if f.rule_id == "B-PRE-1")
    assert warning.citation == "R5, 2C" and warning.severity == "warning"
    with pytest.raises(services.ActionRefused) as exc:
        create(verified_episode, physician, at)
    assert exc.value.code == "acknowledgement_required"
    order = create(verified_episode, physician, at, acknowledged=True)
    assert order.preconditioning and "B-PRE-1" in order.rule_ids


def test_long_before_the_infusion_there_is_no_warning(verified_episode):
    at = verified_episode.planned_start - timedelta(days=30)
    check = services.cyclophosphamide_order_check(patient=verified_episode.patient, at=at)
    assert check.allowed and not check.warnings


def test_nurses_cannot_order_cyclophosphamide(verified_episode, nurse):
    with pytest.raises(PermissionDenied):
        create(verified_episode, nurse, verified_episode.planned_start + timedelta(days=5))


def test_the_cyclophosphamide_page_shows_the_stop_and_the_hold_end(
    verified_episode, nurse, physician, login
):
    end = run_infusion(verified_episode, nurse)
    at = timezone.localtime(end + timedelta(hours=20))
    response = login(physician).post(
        f"/infusion/episodes/{verified_episode.pk}/cyclophosphamide/",
        {"scheduled_at": at.strftime("%Y-%m-%dT%H:%M"), "dose_mg": "500"},
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "Stopped" in body
    assert timezone.localtime(end + HOLD).strftime("%Y-%m-%d %H:%M") in body


def test_the_cyclophosphamide_check_partial_answers_htmx_alone(verified_episode, physician, login):
    at = timezone.localtime(verified_episode.planned_start - timedelta(days=2))
    response = login(physician).post(
        f"/infusion/episodes/{verified_episode.pk}/cyclophosphamide/",
        {"scheduled_at": at.strftime("%Y-%m-%dT%H:%M"), "dose_mg": "500", "check": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="cyc-check",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="cyc-check"') and "<html" not in body
    assert "B-PRE-1" in body and "R5, 2C" in body
