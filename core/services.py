"""Clinical writes of the core app: one function per action, each audited in its transaction."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, text
from .clinical_time import EARLIEST_YEAR, check_clinical_time
from .labs import implausible_message
from .models import LabResult, Measurement, Patient

PATIENT_FIELDS = ("hospital_number", "name", "sex", "date_of_birth", "ward")


def _check_patient_text(data, reason=""):
    """Names reach e-mail subjects, PDFs and exports: refused with a control character or
    line break in them (the form says so first), the reason beyond 2,000 characters."""
    errors = {}
    for name in ("hospital_number", "name"):
        char = text.control_character(str(data.get(name) or ""), single_line=True)
        if char is not None:
            errors[name] = _("Remove the control character or line break (%(char)s).") % {
                "char": text.describe(char)
            }
    born = data.get("date_of_birth")
    if isinstance(born, str):  # a caller may pass the ISO text the model field also takes
        try:
            born = date.fromisoformat(born)
        except ValueError:
            errors["date_of_birth"] = _("Enter a valid date.")
            born = None
    # Issue 16: a birth date between 1900 and today (the form says so first).
    if born is not None and not (date(EARLIEST_YEAR, 1, 1) <= born <= timezone.localdate()):
        errors["date_of_birth"] = _(
            "The date of birth must be between 1900-01-01 and today (%(born)s is not)."
        ) % {"born": born.isoformat()}
    if text.too_long(reason, text.REASON_MAX_LENGTH):
        errors["reason"] = _("The reason is longer than %(max)s characters.") % {
            "max": text.REASON_MAX_LENGTH
        }
    if errors:
        raise ValidationError(errors)


def patient_create(*, actor, data):
    _check_patient_text(data)
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
    _check_patient_text(data, reason)
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


class ClinicalTimeRefused(ValueError):
    """C-TIME-1: an implausible recorded time; ``field_errors`` for the form, nothing stored."""

    def __init__(self, field, messages):
        super().__init__(" ".join(messages))
        self.message = " ".join(messages)
        self.field_errors = {field: list(messages)}


def _check_time(at, *, patient, what, field):
    problems = check_clinical_time(
        at,
        now=timezone.now(),
        what=what,
        birth_date=patient.date_of_birth,
        zone=timezone.get_default_timezone(),
    )
    if problems:
        raise ClinicalTimeRefused(field, [_(p.template) % p.params for p in problems])


def measurement_record(*, actor, patient, kind, value, measured_at):
    _check_time(measured_at, patient=patient, what=_("The measurement time"), field="measured_at")
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
    _check_time(observed_at, patient=patient, what=_("The observation time"), field="observed_at")
    # C-UNIT-1: a value outside its analyte's physiological range (often a unit mix-up,
    # Hb 105 "g/dL") is refused, whoever calls (the form says so first).
    implausible = implausible_message(analyte, value, unit)
    if implausible:
        raise ValidationError({"value": implausible})
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
