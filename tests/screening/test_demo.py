"""The demo data and the benchmark seed go through the services (so they are audited)."""

from io import StringIO

import pytest

from core.models import AuditEvent, Patient, User
from screening.apps import ScreeningConfig
from screening.models import Screening
from tests.factories import make_patient, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(ward_a, ward_b, ranges):
    from core.models import Ward

    ward_a.code = "rheum-a"
    ward_a.save()
    doctor = make_user(
        "physician", ward_a, username="dr.li", investigator=True, password="Physician-demo-2026"
    )
    nurse = make_user("nurse", ward_a, username="nurse.wang")
    for i in range(3):
        make_patient(ward_a, hospital_number=f"H{2026000 + i:07d}")
    return Ward.objects.get(code="rheum-a"), doctor, nurse


def test_seed_demo_makes_a_signed_eligible_sle_a_draft_and_an_ineligible(demo):
    from django.apps import apps

    out = StringIO()
    config = apps.get_app_config("screening")
    assert isinstance(config, ScreeningConfig)
    config.seed_demo(out)
    outcomes = sorted((s.indication, s.status, s.outcome) for s in Screening.objects.all())
    assert outcomes == [
        ("IIM", "draft", "ineligible"),
        ("SLE", "draft", "incomplete"),
        ("SLE", "signed", "eligible"),
    ]
    assert Screening.objects.get(status="signed").signature_valid()
    assert AuditEvent.objects.filter(action="sign").count() == 1
    config.seed_demo(out)  # idempotent
    assert Screening.objects.count() == 3


def test_bench_seed_makes_the_screenings_it_is_asked_for(ward_a):
    make_user("nurse", ward_a)
    for _ in range(5):
        make_patient(ward_a)
    from django.apps import apps

    apps.get_app_config("screening").bench_seed(screenings=12, episodes=0)
    assert Screening.objects.count() == 12
    assert set(Screening.objects.values_list("indication", flat=True)) == {
        "SLE",
        "IIM",
        "AAV",
        "dcSSc",
        "SS",
    }
    assert Patient.objects.count() == 5 and User.objects.count() == 1
