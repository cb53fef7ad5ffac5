"""Plain factory functions for tests: a ward, a user of a role, a patient."""

import itertools
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from core.models import LabResult, Measurement, Patient, User, Ward

_seq = itertools.count(1)
PASSWORD = "Correct-horse-42"


def make_ward(code=None, name=None):
    n = next(_seq)
    code = code or f"ward-{n}"
    return Ward.objects.get_or_create(code=code, defaults={"name": name or f"Ward {code}"})[0]


def make_user(role, ward=None, *, username=None, investigator=False, password=PASSWORD, **extra):
    username = username or f"{role}{next(_seq)}"
    user = User.objects.create_user(
        username=username,
        password=password,
        ward=ward,
        is_investigator=investigator,
        first_name=role.title(),
        last_name=str(next(_seq)),
        **extra,
    )
    group = Group.objects.filter(name=role).first()
    if group is None:  # a transactional test flushed the migration's groups
        from core.roles import sync_runtime

        sync_runtime()
        group = Group.objects.get(name=role)
    user.groups.add(group)
    return user


def make_patient(ward, **fields):
    n = next(_seq)
    data = {
        "hospital_number": f"T{n:07d}",
        "name": f"Patient {n}",
        "sex": "F",
        "date_of_birth": date(1990, 5, 17),
        "ward": ward,
    }
    data.update(fields)
    return Patient.objects.create(**data)


def add_weight(patient, user, kg, when=None):
    return Measurement.objects.create(
        patient=patient,
        kind="weight_kg",
        value=Decimal(str(kg)),
        measured_at=when or timezone.now(),
        recorded_by=user,
    )


def add_lab(patient, user, analyte, value, unit, when=None, lab="Hospital central lab"):
    return LabResult.objects.create(
        patient=patient,
        analyte=analyte,
        value=Decimal(str(value)),
        unit=unit,
        lab=lab,
        observed_at=when or timezone.now(),
        recorded_by=user,
    )
