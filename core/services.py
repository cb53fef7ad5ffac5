"""Clinical writes of the core app: one function per action, each audited in its transaction."""

from decimal import Decimal

from django.db import transaction

from . import audit
from .models import LabResult, Measurement, Patient, ReferenceRange

PATIENT_FIELDS = ("hospital_number", "name", "sex", "date_of_birth", "ward")
REFERENCE_RANGE_FIELDS = ("lab", "analyte", "sex", "unit", "lower", "upper")


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


def _reference_range_values(rr):
    # Limits as the database stores them (4 decimal places), so "84" and "84.0000" are the
    # same value in the diff and the audit shows what screening will read back.
    values = audit.snapshot(rr, REFERENCE_RANGE_FIELDS)
    for name in ("lower", "upper"):
        value = getattr(rr, name)
        if value not in (None, ""):
            places = ReferenceRange._meta.get_field(name).decimal_places
            values[name] = str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places)))
    return values


def reference_range_save(*, actor, reference_range, reason):
    """Create or change a reference range. ULNs decide screening verdicts, so every change
    is audited with the values before and after and the reason given."""
    if not (reason or "").strip():
        raise ValueError("A reference-range change needs a reason for the audit trail.")
    reason = reason.strip()
    with transaction.atomic():
        if reference_range.pk is None:
            reference_range.save()
            audit.record(
                "create",
                actor=actor,
                obj=reference_range,
                new=_reference_range_values(reference_range),
                reason=reason,
            )
            return reference_range
        stored = ReferenceRange.objects.select_for_update().get(pk=reference_range.pk)
        old, new = audit.diff(
            _reference_range_values(stored), _reference_range_values(reference_range)
        )
        if not new:
            return reference_range
        reference_range.save()
        audit.record("update", actor=actor, obj=reference_range, old=old, new=new, reason=reason)
    return reference_range


def reference_range_delete(*, actor, reference_range, reason):
    if not (reason or "").strip():
        raise ValueError("Deleting a reference range needs a reason for the audit trail.")
    reason = reason.strip()
    with transaction.atomic():
        stored = ReferenceRange.objects.select_for_update().get(pk=reference_range.pk)
        old = _reference_range_values(stored)
        object_id = stored.pk
        stored.delete()
        audit.record(
            "delete",
            actor=actor,
            object_type=ReferenceRange._meta.label,
            object_id=object_id,
            old=old,
            reason=reason,
        )


def latest_measurement(patient, kind):
    return patient.measurements.filter(kind=kind).order_by("-measured_at").first()
