"""C-CYC-2: a cyclophosphamide override authorises one scheduled time. Given earlier than
that time less the tolerance (CYC_OVERRIDE_TOLERANCE_MINUTES, default 60), or inside the
48 h hold without an override, the administration is refused; B-CYC-1 counts the hold
from the recorded infusion end."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from infusion import services
from infusion.models import Administration, OrderStatus
from tests.factories import PASSWORD
from tests.infusion.conftest import run_infusion

pytestmark = pytest.mark.django_db
HOLD = timedelta(hours=48)


def local(at):
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def ready_order(episode, physician, pharmacist, at, **override):
    """A cyclophosphamide order for `at`, signed and verified."""
    order = services.cyclophosphamide_order_create(
        episode=episode, actor=physician, scheduled_at=at, dose_mg=Decimal("500"), **override
    )
    services.order_sign(order=order, actor=physician, password=PASSWORD)
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    return order


@pytest.fixture
def overridden(verified_episode, nurse, physician, physician2, pharmacist):
    """An override authorising cyclophosphamide 24 h after the recorded end (inside the
    hold), at a whole minute; returns (order, authorised time, infusion end)."""
    end = run_infusion(verified_episode, nurse)
    authorised = (end + timedelta(hours=24)).replace(second=0, microsecond=0)
    order = ready_order(
        verified_episode,
        physician,
        pharmacist,
        authorised,
        override_reason="Severe NPSLE flare; MDT decision",
        second_physician=physician2,
        second_password=PASSWORD,
    )
    return order, authorised, end


def give(order, nurse, at):
    with time_machine.travel(at, tick=False):
        return services.order_administer(order=order, actor=nurse)


def test_c_cyc_2_given_61_min_before_the_authorised_time_it_is_refused_and_audited(
    overridden, nurse
):
    order, authorised, _end = overridden
    with pytest.raises(services.ActionRefused) as exc:
        give(order, nurse, authorised - timedelta(minutes=61))
    assert exc.value.code == "cyc_early"
    message = exc.value.message
    assert "C-CYC-2" in message and "B-CYC-1" in message
    assert local(authorised) in message  # the authorised time, in ward time
    assert local(authorised - timedelta(minutes=60)) in message  # the earliest allowed
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED
    assert not Administration.objects.filter(order=order).exists()
    event = AuditEvent.objects.get(action="cyclophosphamide_stopped", object_id=str(order.pk))
    assert event.actor == nurse and event.reason == "C-CYC-2"
    assert event.new_values["action"] == "order_administer"
    assert event.new_values["authorised_at"] == audit.normalise(authorised)
    assert event.new_values["at"] == audit.normalise(authorised - timedelta(minutes=61))


@pytest.mark.parametrize("minutes_early", [60, 59, 0])
def test_c_cyc_2_given_within_the_tolerance_of_the_authorised_time_it_goes_ahead(
    overridden, nurse, minutes_early
):
    """Exactly 60 min early is still allowed: the tolerance is inclusive (only *more*
    than CYC_OVERRIDE_TOLERANCE_MINUTES before the authorised time is refused)."""
    order, authorised, _end = overridden
    given = give(order, nurse, authorised - timedelta(minutes=minutes_early))
    assert given.given_at == authorised - timedelta(minutes=minutes_early)
    order.refresh_from_db()
    assert order.status == OrderStatus.ADMINISTERED
    assert not AuditEvent.objects.filter(action="cyclophosphamide_stopped").exists()


def test_c_cyc_2_after_the_authorised_time_it_goes_ahead(overridden, nurse):
    order, authorised, _end = overridden
    give(order, nurse, authorised + timedelta(hours=3))
    order.refresh_from_db()
    assert order.status == OrderStatus.ADMINISTERED


def test_c_cyc_2_the_tolerance_is_a_setting(overridden, nurse, settings):
    settings.CYC_OVERRIDE_TOLERANCE_MINUTES = 0
    order, authorised, _end = overridden
    with pytest.raises(services.ActionRefused) as exc:
        give(order, nurse, authorised - timedelta(minutes=1))
    assert exc.value.code == "cyc_early"
    give(order, nurse, authorised)


def test_c_cyc_2_one_minute_after_the_infusion_the_override_does_not_let_it_through(
    overridden, nurse
):
    """The issue's scenario: authorised for the next day, recorded 1 min after the end."""
    order, _authorised, end = overridden
    with pytest.raises(services.ActionRefused) as exc:
        give(order, nurse, end + timedelta(minutes=1))
    assert exc.value.code == "cyc_early"


def test_c_cyc_2_without_an_override_inside_the_hold_it_is_refused_and_after_it_allowed(
    verified_episode, nurse, physician, pharmacist
):
    end = run_infusion(verified_episode, nurse)
    order = ready_order(verified_episode, physician, pharmacist, end + HOLD)
    with pytest.raises(services.ActionRefused) as exc:
        give(order, nurse, end + HOLD - timedelta(minutes=1))
    assert exc.value.code == "cyc_hold" and "B-CYC-1" in exc.value.message
    give(order, nurse, end + HOLD)
    order.refresh_from_db()
    assert order.status == OrderStatus.ADMINISTERED


def test_c_cyc_2_b_cyc_1_the_hold_counts_from_the_recorded_end_not_the_planned_end(
    verified_episode, nurse, physician, pharmacist
):
    planned_end = verified_episode.planned_end
    end = run_infusion(verified_episode, nurse, minutes=90)  # ended an hour late
    assert end > planned_end + timedelta(minutes=30)
    order = ready_order(verified_episode, physician, pharmacist, end + HOLD)
    # 48 h after the planned end is still inside the hold of the recorded end.
    with pytest.raises(services.ActionRefused) as exc:
        give(order, nurse, planned_end + HOLD + timedelta(minutes=1))
    assert exc.value.code == "cyc_hold"
    assert local(end + HOLD) in exc.value.message
    give(order, nurse, end + HOLD)


def test_c_cyc_2_the_bedside_form_shows_the_refusal(overridden, nurse, login):
    order, authorised, _end = overridden
    early = authorised - timedelta(minutes=61)
    with time_machine.travel(authorised, tick=False):
        response = login(nurse).post(
            f"/infusion/orders/{order.pk}/administer/",
            {"at": timezone.localtime(early).strftime("%Y-%m-%dT%H:%M"), "note": ""},
        )
    assert response.status_code == 409
    body = response.content.decode()
    assert "C-CYC-2" in body and local(authorised) in body
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED
