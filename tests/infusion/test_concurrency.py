"""Two pharmacists verify the same order at the same moment (PostgreSQL, real threads)."""

import threading
import time

import pytest
from django.db import connection

from infusion import services
from infusion.models import OrderKind, OrderStatus, Signature, SignatureMeaning
from infusion.services import orders as order_services
from tests.factories import PASSWORD, make_patient, make_user, make_ward
from tests.infusion.conftest import open_episode, order_of, sign_all

pytestmark = pytest.mark.django_db(transaction=True)


def test_exactly_one_of_two_pharmacists_verifies_and_the_other_is_told_who_did(monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import add_lab, add_weight

    ward = make_ward("ward-a", "Ward A")
    doc = make_user("physician", ward, username="doc", investigator=True)
    nurse = make_user("nurse", ward, username="nurse")
    pharmacists = [make_user("pharmacist", ward, username=f"pharm{n}") for n in (1, 2)]
    patient = make_patient(ward)
    add_weight(patient, nurse, "60", when=timezone.now() - timedelta(days=1))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=timezone.now() - timedelta(days=1))
    episode = open_episode(patient, doc)
    sign_all(episode, doc)
    order = order_of(episode, OrderKind.MSC_IV)

    # Hold the row lock a moment inside the verification, so the second pharmacist's
    # transaction certainly arrives while the first one is still deciding.
    real = order_services._prescriber_signature

    def slow(order):
        time.sleep(0.3)
        return real(order)

    # Patched where `_verify_one` looks it up: the module that owns it.
    monkeypatch.setattr(order_services, "_prescriber_signature", slow)
    barrier = threading.Barrier(2)
    results = {}

    def verify(pharmacist):
        try:
            barrier.wait(timeout=10)
            services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
            results[pharmacist.username] = "verified"
        except services.ActionRefused as exc:
            results[pharmacist.username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=verify, args=(p,)) for p in pharmacists]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    outcomes = sorted(results.values(), key=lambda r: isinstance(r, services.ActionRefused))
    assert outcomes[0] == "verified"
    refused = outcomes[1]
    assert isinstance(refused, services.ActionRefused)
    assert refused.code == "already_verified"
    winner = next(p for p in pharmacists if results[p.username] == "verified")
    assert winner.get_full_name() in refused.message
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED
    assert (
        Signature.objects.filter(
            order=order, meaning=SignatureMeaning.VERIFIED, voided_at__isnull=True
        ).count()
        == 1
    )
