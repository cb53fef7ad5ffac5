"""Demo data: two wards, one user per role, ~30 synthetic patients with weights and labs.

Idempotent: running it twice changes nothing. Apps add their own demo data through an
optional `seed_demo(stdout)` method on their AppConfig, called after this.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core import services
from core.models import MeasurementKind, Patient, ReferenceRange, User, Ward

DEMO_USERS = [
    # username, role, ward code, investigator, full name, password
    ("dr.li", "physician", "rheum-a", True, "Li Wei", "Physician-demo-2026"),
    ("dr.zhao", "physician", "rheum-a", False, "Zhao Min", "Physician2-demo-2026"),
    ("nurse.wang", "nurse", "rheum-a", False, "Wang Fang", "Nurse-demo-2026"),
    ("pharm.chen", "pharmacist", "rheum-a", False, "Chen Jing", "Pharmacist-demo-2026"),
    ("pharm.sun", "pharmacist", "rheum-a", False, "Sun Yu", "Pharmacist2-demo-2026"),
    ("dr.liu", "physician", "rheum-b", True, "Liu Yang", "PhysicianB-demo-2026"),
    ("nurse.zhou", "nurse", "rheum-b", False, "Zhou Lan", "NurseB-demo-2026"),
    ("audit.admin", "auditor", None, False, "Audit Admin", "Admin-demo-2026"),
    # Two system administrators: a reference-range change by one waits for the other.
    ("sys.ma", "sysadmin", None, False, "Ma Jun", "Sysadmin-demo-2026"),
    ("sys.he", "sysadmin", None, False, "He Ping", "Sysadmin2-demo-2026"),
]

REFERENCE_RANGES = [
    # analyte, sex, unit, lower, upper
    ("inr", "", "ratio", "0.8", "1.2"),
    ("aptt", "", "s", "25", "35"),
    ("ast", "", "U/L", "13", "35"),
    ("alt", "", "U/L", "7", "40"),
    ("bilirubin", "", "umol/L", "3.4", "20.5"),
    ("creatinine", "F", "umol/L", "45", "84"),
    ("creatinine", "M", "umol/L", "59", "104"),
    ("ck", "F", "U/L", "40", "200"),
    ("ck", "M", "U/L", "50", "310"),
    ("aldolase", "", "U/L", "0", "7.6"),
    ("ldh", "", "U/L", "120", "250"),
]

SURNAMES = (
    "Zhang Wang Li Zhao Liu Chen Yang Huang Zhou Wu Xu Sun Ma Zhu Hu Guo He Lin Gao Luo".split()
)
GIVEN = "Mei Hua Jie Lei Ying Qiang Yan Jun Xia Tao Na Bo Li Hong Ping Jing Min Yu".split()


class Command(BaseCommand):
    help = "Load the demo wards, users (passwords printed) and synthetic patients."

    def handle(self, *args, **options):
        rng = random.Random(20261122)
        with transaction.atomic():
            ward_a, _ = Ward.objects.get_or_create(
                code="rheum-a", defaults={"name": "Rheumatology A"}
            )
            ward_b, _ = Ward.objects.get_or_create(
                code="rheum-b", defaults={"name": "Rheumatology B"}
            )
            wards = {"rheum-a": ward_a, "rheum-b": ward_b}
            created_users = []
            for username, role, ward_code, investigator, full_name, password in DEMO_USERS:
                user = User.objects.filter(username=username).first()
                if user is None:
                    first, last = full_name.split(" ", 1)
                    user = User.objects.create_user(
                        username=username,
                        password=password,
                        first_name=first,
                        last_name=last,
                        ward=wards.get(ward_code),
                        is_investigator=investigator,
                        is_staff=role in ("auditor", "sysadmin"),
                        email=f"{username}@ward.example",
                    )
                    user.groups.add(Group.objects.get(name=role))
                scope = ward_code or ("admin site" if role == "sysadmin" else "all wards")
                created_users.append((username, role, scope, password))
            for ward in (ward_a, ward_b):
                if ward.physician_on_duty_id is None:
                    ward.physician_on_duty = (
                        User.objects.filter(ward=ward, groups__name="physician")
                        .order_by("username")
                        .first()
                    )
                    ward.save(update_fields=["physician_on_duty"])
            for analyte, sex, unit, lower, upper in REFERENCE_RANGES:
                ReferenceRange.objects.get_or_create(
                    lab="Hospital central lab",
                    analyte=analyte,
                    sex=sex,
                    defaults={"unit": unit, "lower": Decimal(lower), "upper": Decimal(upper)},
                )
            if not Patient.objects.exists():
                self._patients(rng, ward_a, ward_b)
        for cfg in apps.get_app_configs():
            if hasattr(cfg, "seed_demo"):
                cfg.seed_demo(self.stdout)
        self.stdout.write("Demo users (username / role / ward / password):")
        for username, role, ward_code, password in created_users:
            self.stdout.write(f"  {username:12} {role:11} {ward_code:10} {password}")

    def _patients(self, rng, ward_a, ward_b):
        now = timezone.now()
        nurse = {
            ward_a.pk: User.objects.get(username="nurse.wang"),
            ward_b.pk: User.objects.get(username="nurse.zhou"),
        }
        for i in range(30):
            ward = ward_a if i < 20 else ward_b
            actor = nurse[ward.pk]
            sex = "F" if rng.random() < 0.85 else "M"  # SLE is mostly a disease of women
            dob = date(1962, 1, 1) + timedelta(days=rng.randint(0, 365 * 42))
            patient = services.patient_create(
                actor=actor,
                data={
                    "hospital_number": f"H{2026000 + i:07d}",
                    "name": f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
                    "sex": sex,
                    "date_of_birth": dob,
                    "ward": ward,
                },
            )
            when = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 12))
            services.measurement_record(
                actor=actor,
                patient=patient,
                kind=MeasurementKind.WEIGHT_KG,
                value=Decimal(rng.randint(450, 800)) / 10,
                measured_at=when,
            )
            services.measurement_record(
                actor=actor,
                patient=patient,
                kind=MeasurementKind.HEIGHT_CM,
                value=Decimal(rng.randint(150, 180)),
                measured_at=when,
            )
            labs = [
                ("anc", Decimal(rng.randint(8, 60)) / 10, "10^9/L"),
                ("platelets", Decimal(rng.randint(40, 320)), "10^9/L"),
                ("haemoglobin", Decimal(rng.randint(80, 140)), "g/L"),
                ("inr", Decimal(rng.randint(90, 130)) / 100, "ratio"),
                ("aptt", Decimal(rng.randint(26, 40)), "s"),
                ("ast", Decimal(rng.randint(15, 60)), "U/L"),
                ("alt", Decimal(rng.randint(10, 70)), "U/L"),
                ("bilirubin", Decimal(rng.randint(50, 300)) / 10, "umol/L"),
                ("creatinine", Decimal(rng.randint(50, 160)), "umol/L"),
            ]
            for analyte, value, unit in labs:
                services.lab_result_record(
                    actor=actor,
                    patient=patient,
                    analyte=analyte,
                    value=value,
                    unit=unit,
                    lab="Hospital central lab",
                    observed_at=when,
                )
