"""Demo and benchmark screenings, written through the services (so they are audited).

seed_demo: on ward A, one eligible SLE screening signed by the investigator, one
incomplete draft and one ineligible screening. bench_seed: many screenings quickly.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core import services as core_services
from core.models import Patient, User, Ward

from . import services
from .models import Screening

DEMO_PASSWORDS = {"dr.li": "Physician-demo-2026", "dr.liu": "PhysicianB-demo-2026"}

NORMAL_LABS = [
    ("anc", "3.2", "10^9/L"),
    ("platelets", "210", "10^9/L"),
    ("haemoglobin", "118", "g/L"),
    ("inr", "1.0", "ratio"),
    ("aptt", "30", "s"),
    ("ast", "24", "U/L"),
    ("alt", "21", "U/L"),
    ("bilirubin", "11", "umol/L"),
    ("creatinine", "66", "umol/L"),
    ("ck", "540", "U/L"),
]


def _days_ago(today, n):
    return (today - timedelta(days=n)).isoformat()


def _general(today, sex):
    general = {
        "survival_gt_6_months": True,
        "has_reproductive_partner": True,
        "contraception_agreed": True,
        "no_gamete_donation_agreed": True,
        "consent_signed": {"value": True, "date": _days_ago(today, 6)},
    }
    if sex == "F":
        general["childbearing_potential"] = True
        general["pregnancy_test"] = {
            "result": "negative",
            "kind": "urine",
            "date": _days_ago(today, 3),
        }
    return general


def _organ(today):
    d = _days_ago(today, 4)
    return {
        "nyha_class": {"value": 1, "date": d},
        "lvef_percent": {"value": 62, "date": d},
        "pericardial_effusion": {"value": False, "date": d},
        "ecg_significant_abnormality": {"value": False, "date": d},
        "spo2_room_air_percent": {"value": 97, "date": d},
        "pleural_effusion_significant": {"value": False, "date": d},
    }


def _treatments(today):
    return [
        {
            "drug": "hydroxychloroquine",
            "dose": {"value": 400, "unit": "mg/day"},
            "start": _days_ago(today, 1100),
        },
        {
            "drug": "prednisone",
            "dose": {"value": 10, "unit": "mg/day"},
            "start": _days_ago(today, 540),
        },
        {
            "drug": "mycophenolate_mofetil",
            "dose": {"value": 2, "unit": "g/day"},
            "start": _days_ago(today, 730),
            # With azathioprine and prednisone together for 4 months: A-REF-1 reads
            # "glucocorticoids plus ≥ 2 immunosuppressants" as a combination.
            "end": _days_ago(today, 120),
        },
        {
            "drug": "azathioprine",
            "dose": {"value": 100, "unit": "mg/day"},
            "start": _days_ago(today, 245),
        },
    ]


def sle_facts(base, today, sex):
    """A complete, eligible SLE document on top of the prefilled ``base``."""
    return {
        **base,
        "general": _general(today, sex),
        "organ_function": _organ(today),
        "treatment_history": _treatments(today),
        "refractory": {"intolerant_or_inadequate_response": True, "effective_doses": True},
        "sle": {
            "eular_acr_2019_met": True,
            "ana": {"titre": "1:320", "date": _days_ago(today, 4)},
            "anti_dsdna": {"result": "positive", "date": _days_ago(today, 4)},
            "anti_sm": {"result": "negative", "date": _days_ago(today, 4)},
            "sledai_2k": {
                "date": _days_ago(today, 3),
                "descriptors": [
                    "arthritis",
                    "proteinuria",
                    "rash",
                    "low_complement",
                    "increased_dna_binding",
                ],
            },
            "active_since": _days_ago(today, 140),
        },
    }


def iim_facts(base, today, sex, *, mmt8_total=145):
    return {
        **base,
        "general": _general(today, sex),
        "organ_function": _organ(today),
        "treatment_history": _treatments(today),
        "refractory": {"intolerant_or_inadequate_response": True, "effective_doses": True},
        "iim": {
            "classification_probability_percent": 78,
            "subtype": "DM",
            "mmt8": {"date": _days_ago(today, 2), "total": mmt8_total},
            "patient_global_vas": {"value": 5, "date": _days_ago(today, 2)},
            "physician_global_vas": {"value": 4, "date": _days_ago(today, 2)},
        },
    }


def _record_normal_labs(patient, actor, when):
    for analyte, value, unit in NORMAL_LABS:
        core_services.lab_result_record(
            actor=actor,
            patient=patient,
            analyte=analyte,
            value=Decimal(value),
            unit=unit,
            lab="Hospital central lab",
            observed_at=when,
        )
    core_services.measurement_record(
        actor=actor, patient=patient, kind="weight_kg", value=Decimal("58.5"), measured_at=when
    )


def seed_demo(stdout):
    ward = Ward.objects.filter(code="rheum-a").first()
    doctor = User.objects.filter(username="dr.li").first()
    nurse = User.objects.filter(username="nurse.wang").first()
    if ward is None or doctor is None or nurse is None:
        stdout.write("screening: demo users or ward A missing; no demo screenings.")
        return
    if Screening.objects.filter(patient__ward=ward).exists():
        return
    patients = list(Patient.objects.filter(ward=ward).order_by("hospital_number")[:3])
    if len(patients) < 3:
        return
    today = timezone.localdate()
    when = timezone.now() - timedelta(days=2)
    eligible_patient, draft_patient, ineligible_patient = patients
    _record_normal_labs(eligible_patient, nurse, when)
    _record_normal_labs(ineligible_patient, nurse, when)

    first = services.screening_start(actor=nurse, patient=eligible_patient, indication="SLE")
    first, _saved = services.screening_save_draft(
        actor=nurse, screening=first, facts=sle_facts(first.facts, today, eligible_patient.sex)
    )
    try:
        services.screening_sign(actor=doctor, screening=first, password=DEMO_PASSWORDS["dr.li"])
        stdout.write(f"screening: SLE screening of {eligible_patient} is {first.outcome}, signed.")
    except services.ActionRefused as refused:
        stdout.write(f"screening: could not sign the demo SLE screening: {refused.message}")

    services.screening_start(actor=nurse, patient=draft_patient, indication="SLE")

    third = services.screening_start(actor=doctor, patient=ineligible_patient, indication="IIM")
    services.screening_save_draft(
        actor=doctor, screening=third, facts=iim_facts(third.facts, today, ineligible_patient.sex)
    )
    stdout.write("screening: 3 demo screenings on ward A (signed eligible, draft, ineligible).")


def bench_seed(count):
    """``count`` screenings across the wards' patients, quickly, through the services."""
    wards = list(Ward.objects.order_by("code"))
    nurses = {
        w.pk: User.objects.filter(ward=w, groups__name="nurse").order_by("pk").first()
        for w in wards
    }
    doctors = {
        w.pk: User.objects.filter(ward=w, groups__name="physician", is_investigator=True)
        .order_by("pk")
        .first()
        for w in wards
    }
    patients = list(Patient.objects.order_by("pk")[: max(count, 1)])
    if not patients:
        return
    today = timezone.localdate()
    indications = ("SLE", "SLE", "IIM", "AAV", "dcSSc", "SS")
    for i in range(count):
        patient = patients[i % len(patients)]
        nurse = nurses.get(patient.ward_id)
        if nurse is None:
            continue
        indication = indications[i % len(indications)]
        with transaction.atomic():
            screening = services.screening_start(
                actor=nurse, patient=patient, indication=indication
            )
            if indication == "SLE" and i % 3 == 0:
                facts = sle_facts(screening.facts, today, patient.sex)
                screening, _saved = services.screening_save_draft(
                    actor=nurse, screening=screening, facts=facts
                )
            elif indication == "IIM":
                facts = iim_facts(screening.facts, today, patient.sex, mmt8_total=120 + i % 30)
                screening, _saved = services.screening_save_draft(
                    actor=nurse, screening=screening, facts=facts
                )
        doctor = doctors.get(patient.ward_id)
        password = DEMO_PASSWORDS.get(getattr(doctor, "username", ""))
        if doctor and password and i % 10 == 0 and screening.outcome != "incomplete":
            try:
                services.screening_sign(actor=doctor, screening=screening, password=password)
            except services.ActionRefused:
                pass
