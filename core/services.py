"""Clinical writes of the core app: one function per action, each audited in its transaction."""

from django.db import transaction

from . import audit
from .models import LabResult, Measurement, Patient

PATIENT_FIELDS = ("hospital_number", "name", "sex", "date_of_birth", "ward")


def patient_create(*, actor, data):
    with transaction.atomic():
        patient = Patient(**data)
        patient.save()
        audit.record(
            "create",
            actor=actor,
            obj=patient,
            patient=patient,
            new=audit.snapshot(patient, PATIENT_FIELDS),
        )
    return patient


def patient_update(*, actor, patient, data, reason=""):
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        before = audit.snapshot(patient, PATIENT_FIELDS)
        for key, value in data.items():
            setattr(patient, key, value)
        after = audit.snapshot(patient, PATIENT_FIELDS)
        old, new = audit.diff(before, after)
        if not new:
            return patient
        patient.save()
        audit.record(
            "update", actor=actor, obj=patient, patient=patient, old=old, new=new, reason=reason
        )
    return patient


def measurement_record(*, actor, patient, kind, value, measured_at):
    with transaction.atomic():
        m = Measurement(
            patient=patient, kind=kind, value=value, measured_at=measured_at, recorded_by=actor
        )
        m.save()
        audit.record(
            "create",
            actor=actor,
            obj=m,
            patient=patient,
            new=audit.snapshot(m, ("kind", "value", "measured_at")),
        )
    return m


def lab_result_record(*, actor, patient, analyte, value, unit, lab, observed_at):
    with transaction.atomic():
        result = LabResult(
            patient=patient,
            analyte=analyte,
            value=value,
            unit=unit,
            lab=lab,
            observed_at=observed_at,
            recorded_by=actor,
        )
        result.save()
        audit.record(
            "create",
            actor=actor,
            obj=result,
            patient=patient,
            new=audit.snapshot(result, ("analyte", "value", "unit", "lab", "observed_at")),
        )
    return result


def latest_measurement(patient, kind):
    return patient.measurements.filter(kind=kind).order_by("-measured_at").first()
