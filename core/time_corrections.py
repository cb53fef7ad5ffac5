"""Issue 16: the system administrator finds the rows whose clinical times are out of range
(written before the input boundary) and corrects each one, with a written reason.

A clinical time outside 1900..2199 is read clamped (core.stored_time) and shown flagged;
no clinical screen can change it (a recorded time is never edited there). Here the
system administrator (only they: server-side check) replaces it with the time the ward
confirms; the new value must pass C-TIME-1 (core.clinical_time) and the audit event keeps
the value stored before (as PostgreSQL wrote it, e.g. a BC instant), the new one and the
reason.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, text
from .clinical_time import EARLIEST_YEAR, LATEST_YEAR, check_clinical_time
from .models import Role

# (model, field, path to the patient): every recorded clinical time and the birth date.
CLINICAL_TIME_FIELDS = (
    ("core.Patient", "date_of_birth", ""),
    ("core.Measurement", "measured_at", "patient"),
    ("core.LabResult", "observed_at", "patient"),
    ("infusion.Episode", "received_at", "patient"),
    ("infusion.Episode", "out_of_fridge_at", "patient"),
    ("infusion.Episode", "started_at", "patient"),
    ("infusion.Episode", "ended_at", "patient"),
    ("infusion.RateStep", "at", "episode__patient"),
    ("infusion.VitalSigns", "at", "episode__patient"),
    ("infusion.AdverseReaction", "at", "episode__patient"),
    ("infusion.SeriousAdverseEventReport", "informed_at", "reaction__episode__patient"),
    ("infusion.Administration", "given_at", "order__patient"),
    ("infusion.DoseDue", "at", "order__patient"),
)
_KEYS = {f"{m}.{f}": (m, f, p) for m, f, p in CLINICAL_TIME_FIELDS}


@dataclass(frozen=True)
class ImplausibleTime:
    key: str  # "core.Measurement.measured_at"
    pk: int
    stored: str  # as PostgreSQL prints it ("0001-12-31 16:00:00+00 BC")
    is_date: bool


def _bounds(is_date):
    if is_date:
        return date(EARLIEST_YEAR, 1, 1), date(LATEST_YEAR, 12, 31)
    return datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC), datetime(LATEST_YEAR + 1, 1, 1, tzinfo=UTC)


def _is_date(model, field):
    return model._meta.get_field(field).get_internal_type() == "DateField"


def implausible_times(limit=500):
    """Rows whose clinical time is before 1900 or after 2199 (compared in SQL, so a BC
    or year-10000 value is found as well)."""
    found = []
    for label, field, _path in CLINICAL_TIME_FIELDS:
        model = apps.get_model(label)
        is_date = _is_date(model, field)
        low, high = _bounds(is_date)
        rows = (
            model.objects.filter(Q(**{f"{field}__lt": low}) | Q(**{f"{field}__gte": high}))
            .annotate(stored=Cast(field, TextField()))
            .order_by("pk")
            .values_list("pk", "stored")[:limit]
        )
        found += [ImplausibleTime(f"{label}.{field}", pk, stored, is_date) for pk, stored in rows]
    return found


class CorrectionRefused(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.message = message
        self.field_errors = {field: [message]}


def clinical_time_correct(*, actor, key, pk, value, reason):
    """Replace one implausible clinical time (``key`` from ``CLINICAL_TIME_FIELDS``) with
    ``value`` (an aware datetime, or a date for the birth date): system administrator
    only; C-TIME-1 on the new value; audited with the stored value, the new one and the
    reason."""
    if getattr(actor, "role", None) != Role.SYSADMIN:
        raise PermissionDenied("role")
    if key not in _KEYS:
        raise CorrectionRefused("key", _("Not a clinical time."))
    reason = (reason or "").strip()
    if not reason:
        raise CorrectionRefused("reason", _("Give a reason; it is kept in the audit trail."))
    if text.too_long(reason, text.REASON_MAX_LENGTH):
        raise CorrectionRefused(
            "reason",
            _("The reason is longer than %(max)s characters.") % {"max": text.REASON_MAX_LENGTH},
        )
    label, field, path = _KEYS[key]
    model = apps.get_model(label)
    with transaction.atomic():
        row = (
            model.objects.select_for_update()
            .annotate(stored=Cast(field, TextField()))
            .filter(pk=pk)
            .first()
        )
        if row is None:
            raise CorrectionRefused("key", _("This row no longer exists."))
        patient = row
        for step in path.split("__") if path else ():
            patient = getattr(patient, step)
        low, high = _bounds(_is_date(model, field))
        current = getattr(row, field)
        if current is not None and low <= current < high:
            raise CorrectionRefused(
                "value", _("This time is plausible already; nothing to correct.")
            )
        _check_new_value(value, patient=patient, is_date=_is_date(model, field), low=low)
        setattr(row, field, value)
        row.save(update_fields=[field])
        audit.record(
            "update",
            actor=actor,
            obj=row,
            patient=patient,
            old={field: row.stored},
            new=audit.normalise({field: value}),
            reason=reason,
        )


def _check_new_value(value, *, patient, is_date, low):
    if value is None:
        raise CorrectionRefused("value", _("Enter the corrected value."))
    if is_date:
        if not low <= value <= timezone.localdate():
            raise CorrectionRefused(
                "value", _("The date of birth must be between 1900-01-01 and today.")
            )
        return
    problems = check_clinical_time(
        value,
        now=timezone.now(),
        what=_("The corrected time"),
        birth_date=patient.date_of_birth,
        zone=timezone.get_default_timezone(),
    )
    if problems:
        raise CorrectionRefused("value", " ".join(_(p.template) % p.params for p in problems))
