"""Fixtures for the infusion app's Django tests: a weighed patient with a platelet count,
and episodes at each stage, all made through the services."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import PASSWORD, add_lab, add_weight


def form_post(data, **extra):
    """The episode form's POST body for a services `data` dict."""
    out = {}
    for name, value in data.items():
        if name == "dose_cells":
            name, value = "dose_cells_e6", Decimal(value) / 1_000_000
        elif name in ("coa_cell_count_measured", "coa_cell_count_labelled"):
            name, value = f"{name}_e6", Decimal(value) / 1_000_000
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, datetime):
            value = timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
        elif value is None:
            value = ""
        out[name] = str(value)
    out.update(extra)
    return out


def open_episode(
    patient,
    physician,
    *,
    start=None,
    acknowledged=True,
    override_reason="",
    second_physician=None,
    **overrides,
):
    """Open an episode through the service; a candidacy override (C-OVR-1) is co-signed by
    ``second_physician`` with the test password."""
    from infusion import services
    from infusion.demo import episode_data

    start = start or timezone.now() + timedelta(days=1)
    return services.episode_open(
        patient=patient,
        actor=physician,
        data=episode_data(start, **overrides),
        acknowledged=acknowledged,
        override_reason=override_reason,
        second_physician=second_physician,
        second_password=PASSWORD if second_physician else "",
    )


def record_consent(episode, physician, **overrides):
    """B-CONSENT-1: the patient's informed consent to the episode, taken and recorded by
    `physician` (what must precede signing any order of the MSC therapy)."""
    from infusion.demo import record_consent as record

    return record(episode, physician, **overrides)


def sign_all(episode, physician):
    """Sign every draft order, the informed consent recorded first when there is none
    (B-CONSENT-1): by `physician` when they may record it, else by the episode's opener."""
    from infusion import services
    from infusion.models import Consent

    if not Consent.objects.filter(episode_id=episode.pk).exists():
        taker = physician if physician.has_perm("infusion.add_consent") else episode.opened_by
        record_consent(episode, taker)
    return services.orders_sign_all(episode=episode, actor=physician, password=PASSWORD)


def verify_all(episode, pharmacist):
    from infusion import services
    from infusion.models import OrderStatus

    for order in episode.orders.filter(status=OrderStatus.SIGNED).order_by("pk"):
        services.order_verify(order=order, actor=pharmacist, password=PASSWORD)


def order_of(episode, kind):
    return episode.orders.exclude(status__in=("cancelled", "rejected")).get(kind=kind)


@pytest.fixture
def weighed_patient(patient, nurse):
    now = timezone.now()
    add_weight(patient, nurse, "60", when=now - timedelta(days=2))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=now - timedelta(days=1))
    return patient


@pytest.fixture
def episode(weighed_patient, physician):
    return open_episode(weighed_patient, physician)


@pytest.fixture
def signed_episode(episode, physician):
    sign_all(episode, physician)
    return episode


@pytest.fixture
def verified_episode(signed_episode, pharmacist):
    verify_all(signed_episode, pharmacist)
    return signed_episode


def run_infusion(episode, nurse, *, start=None, minutes=33):
    """Chart the whole infusion through the services, travelling in time as a nurse would.

    Returns the end time. Starts at the planned start unless `start` is given."""
    import time_machine

    from infusion import services

    start = start or episode.planned_start
    with time_machine.travel(start + timedelta(minutes=minutes, seconds=1), tick=False):
        services.infusion_record_received(
            episode=episode, actor=nurse, at=start - timedelta(minutes=40)
        )
        services.infusion_record_out_of_fridge(
            episode=episode, actor=nurse, at=start - timedelta(minutes=15)
        )
        services.infusion_start(episode=episode, actor=nurse, at=start)
        # 2 mL/min for 10 min then 4 mL/min: 100 mL can have run in after 30 min (issue 15:
        # an earlier end needs the volume given and a reason).
        services.infusion_rate_step(
            episode=episode, actor=nurse, at=start + timedelta(minutes=10), rate_ml_per_min=4
        )
        services.infusion_end(episode=episode, actor=nurse, at=start + timedelta(minutes=minutes))
    episode.refresh_from_db()
    return start + timedelta(minutes=minutes)
