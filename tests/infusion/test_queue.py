"""The pharmacist queue: pending orders by urgency with what to check; verify or reject."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from infusion import services
from infusion.models import OrderKind, OrderStatus
from tests.factories import PASSWORD, add_lab, add_weight, make_patient
from tests.infusion.conftest import open_episode, order_of, sign_all

pytestmark = pytest.mark.django_db


def signed_for_new_patient(ward, physician, nurse, *, days, **overrides):
    patient = make_patient(ward)
    add_weight(patient, nurse, "60", when=timezone.now() - timedelta(days=1))
    add_lab(patient, nurse, "platelets", 200, "10^9/L", when=timezone.now() - timedelta(days=1))
    episode = open_episode(
        patient, physician, start=timezone.now() + timedelta(days=days), **overrides
    )
    sign_all(episode, physician)
    return episode


def test_the_queue_lists_pending_episodes_by_planned_start_with_the_checks(
    ward_a, physician, nurse, pharmacist, login
):
    later = signed_for_new_patient(ward_a, physician, nurse, days=3)
    sooner = signed_for_new_patient(ward_a, physician, nurse, days=1)
    response = login(pharmacist).get("/infusion/queue/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(f'id="queue-item-{sooner.pk}"') < body.index(f'id="queue-item-{later.pk}"')
    card = body[body.index(f'id="queue-item-{sooner.pk}"') :]
    for text in (
        "Product release (certificate of analysis)",
        "B-QC-1…5",
        "Dose per kg",
        "1.67 × 10⁶/kg for 60.00 kg",
        "Cold chain",
        "must be complete by",
        "Dexamethasone premedication",
        "Antiplatelet course",
        "Cyclophosphamide near the infusion",
        "without filter membrane",
    ):
        assert text in card, text


def test_the_queue_flags_a_dose_outside_the_range_and_cyclophosphamide_near_the_infusion(
    ward_a, physician, nurse, pharmacist, login
):
    episode = signed_for_new_patient(ward_a, physician, nurse, days=2, dose_cells=130_000_000)
    services.cyclophosphamide_order_create(
        episode=episode,
        actor=physician,
        scheduled_at=episode.planned_start - timedelta(days=1),
        dose_mg=Decimal(400),
        acknowledged=True,
    )
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    dose = body[body.index("Dose per kg") - 120 : body.index("Dose per kg")]
    assert 'class="check bad"' in dose
    cyc = body[body.index("Cyclophosphamide near the infusion") - 120 :]
    assert 'class="check attention"' in cyc[:140]


def test_the_number_of_queries_does_not_grow_with_the_rows(
    ward_a, physician, nurse, pharmacist, login
):
    client = login(pharmacist)
    signed_for_new_patient(ward_a, physician, nurse, days=1)
    client.get("/infusion/queue/")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        client.get("/infusion/queue/")
    for days in range(2, 7):
        episode = signed_for_new_patient(ward_a, physician, nurse, days=days)
        services.cyclophosphamide_order_create(
            episode=episode,
            actor=physician,
            scheduled_at=episode.planned_start + timedelta(days=5),
            dose_mg=Decimal(400),
        )
    with CaptureQueriesContext(connection) as six:
        response = client.get("/infusion/queue/")
    assert response.content.decode().count('class="card queue-item"') == 6
    assert len(six) == len(one), [q["sql"] for q in six.captured_queries]


def test_verifying_from_the_queue_with_htmx_returns_the_card_only(
    signed_episode, pharmacist, login
):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    response = login(pharmacist).post(
        f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(
        f'<article class="card queue-item" id="queue-item-{signed_episode.pk}"'
    )
    assert "<html" not in body and "Order verified." in body
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED


def test_a_wrong_password_or_an_already_verified_order_shows_the_reason(
    signed_episode, pharmacist, pharmacist2, login
):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    body = (
        login(pharmacist)
        .post(
            f"/infusion/orders/{order.pk}/verify/",
            {"password": "nope-nope"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "The password is not correct" in body
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    client = login(pharmacist2)
    response = client.post(f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "already verified this order" in page


def test_rejecting_needs_a_reason(signed_episode, pharmacist, login):
    order = order_of(signed_episode, OrderKind.ANTIPLATELET)
    client = login(pharmacist)
    body = client.post(
        f"/infusion/orders/{order.pk}/reject/", {"reason": ""}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Give a reason for rejecting the order." in body
    client.post(f"/infusion/orders/{order.pk}/reject/", {"reason": "aspirin allergy"})
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED


def test_a_physician_sees_no_queue_and_cannot_verify(signed_episode, physician2, login):
    client = login(physician2)
    assert client.get("/infusion/queue/").status_code == 403
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    assert (
        client.post(f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD}).status_code
        == 403
    )


def test_the_queue_shows_only_the_pharmacists_ward(signed_episode, ward_b, login):
    from tests.factories import make_user

    other = make_user("pharmacist", ward_b, username="pharm_b")
    body = login(other).get("/infusion/queue/").content.decode()
    assert signed_episode.patient.name not in body
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    assert (
        login(other)
        .post(f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD})
        .status_code
        == 404
    )
