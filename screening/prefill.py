"""Prefill a screening from the patient's record, and tell when the record has moved on.

The date of birth and sex always come from the patient record. The weight and each lab
value come from the latest observation made on or before the screening date; each
value's date and source (laboratory, record id) are kept in ``facts["meta"]["sources"]``
and shown beside the input. A value older than the screening window is still filled
in, flagged stale, and the engine leaves its criterion unknown until a recent value is
entered. (The ward records no vital signs outside infusions; SpO₂, NYHA and the echo are
entered in the screening form.)

A lab result in a unit the engine cannot convert is not used: the newest convertible
result is used instead, and the skipped result is kept in
``facts["meta"]["prefill_skipped"]`` and named beside the input, so nobody wonders why an
older value was filled in (or none).

A newer observation replaces a prefilled value, or an empty one, or one typed by hand
with an older date; a value typed by hand with the same or a later date is kept.

A new screening of a patient screened before for the same indication (issue 18) also
copies what is still valid from the last signed one (``copy_from_previous``): a dated
value (a lab, an observation, a questionnaire, consent) whose date is inside the screening
window; an undated answer when that screening's date is inside the window; a history
(treatments, dated series, BVAS assessments, response, dates of onset) always, since the
engine judges each of its dates itself. What is left out is named with its reason. Each
copied value keeps its source (``facts["meta"]["copied"]``) while it is unchanged.
"""

import functools
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.models import LabResult, Measurement, MeasurementKind

from .fields import get_path, set_path
from .reference import CORE_TO_ENGINE, engine_unit, number

SEX = {"F": "female", "M": "male"}


def _local(dt):
    return timezone.localtime(dt)


def _end_of_day(day):
    return datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def latest_records(patient, screening_date, skipped=None):
    """{facts path: (value dict, source dict)} from the newest records up to the date.

    Lab results in a unit the engine does not know are passed over for the next older
    one; when ``skipped`` is a dict, each passed-over result newer than the one used is
    added to ``skipped[path]`` (a list, newest first) with the reason.
    """
    until = _end_of_day(screening_date)
    found = {}
    weight = (
        Measurement.objects.filter(
            patient=patient, kind=MeasurementKind.WEIGHT_KG, measured_at__lt=until
        )
        .order_by("-measured_at", "-pk")
        .first()
    )
    if weight is not None:
        day = _local(weight.measured_at).date().isoformat()
        value = number(weight.value)
        found["patient.weight_kg"] = (
            {"value": value, "date": day},
            {
                "source": "measurement",
                "id": weight.pk,
                "observed_at": _local(weight.measured_at).isoformat(timespec="minutes"),
                "value": _text(value),
                "date": day,
            },
        )
    wanted = set(CORE_TO_ENGINE)
    labs = (
        LabResult.objects.filter(patient=patient, observed_at__lt=until, analyte__in=wanted)
        .order_by("-observed_at", "-pk")
        .only("pk", "analyte", "value", "unit", "lab", "observed_at")
    )
    for result in labs.iterator(chunk_size=200):
        if result.analyte not in wanted:
            continue
        key = CORE_TO_ENGINE[result.analyte]
        unit = engine_unit(key, result.unit)
        day = _local(result.observed_at).date().isoformat()
        if unit is None:
            # A unit the engine does not know: try the next older result, and say so.
            if skipped is not None:
                skipped.setdefault(f"labs.{key}", []).append(
                    {
                        "id": result.pk,
                        "lab": result.lab,
                        "value": _text(number(result.value)),
                        "unit": result.unit,
                        "date": day,
                        "reason": "unit",
                    }
                )
            continue
        wanted.discard(result.analyte)
        value = number(result.value)
        found[f"labs.{key}"] = (
            {"value": value, "unit": unit, "date": day, "lab": result.lab},
            {
                "source": "lab_result",
                "id": result.pk,
                "lab": result.lab,
                "observed_at": _local(result.observed_at).isoformat(timespec="minutes"),
                "value": _text(value),
                "date": day,
            },
        )
        if not wanted:
            break
    return found


def _text(value):
    from .fields import _s

    return _s(value)


def apply_prefill(facts, patient, screening_date):
    """A copy of ``facts`` updated from the patient record; returns (facts, changed paths)."""
    doc = _copy(facts)
    meta = doc.setdefault("meta", {})
    sources = dict(meta.get("sources") or {})
    changed = []
    for path, value in (
        ("patient.date_of_birth", patient.date_of_birth.isoformat()),
        ("patient.sex", SEX.get(patient.sex)),
    ):
        if get_path(doc, path) != value:
            set_path(doc, path, value)
            changed.append(path)
    skipped = {}
    for path, (value, source) in latest_records(patient, screening_date, skipped).items():
        current = get_path(doc, path)
        if _should_replace(current, sources.get(path), value):
            kept = (
                {k: v for k, v in (current or {}).items() if k == "uln"}
                if path.startswith("labs.")
                else {}
            )
            # A typed ULN belongs to the old lab's value: keep it only for the same lab.
            if kept and (current or {}).get("lab") != value.get("lab"):
                kept = {}
            new = {**value, **kept}
            if new != current:
                set_path(doc, path, new)
                changed.append(path)
            sources[path] = source
    meta["sources"] = sources
    if skipped:
        meta["prefill_skipped"] = skipped
    else:
        meta.pop("prefill_skipped", None)
    return doc, changed


def _should_replace(current, source, candidate):
    if not isinstance(current, dict):
        return True
    if (
        source is not None
        and _text(current.get("value")) == source.get("value")
        and current.get("date") == source.get("date")
    ):
        return True  # still the prefilled value: refresh it
    return (candidate.get("date") or "") > (current.get("date") or "")


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# --- Copying from the patient's last screening (issue 18) ---------------------------------

# Kinds whose value is a history: copied whole, whatever its dates (each is judged by the
# engine against its own window), with its source.
HISTORY_KINDS = frozenset({"treatments", "series", "bvas", "aav_response", "date"})
# Never copied: the record is their source, or the new screening sets them.
NOT_COPIED_KINDS = frozenset({"readonly"})
NOT_COPIED_PATHS = frozenset({"screening_date"})


def previous_screening(patient, indication, before):
    """The patient's last signed screening for the indication dated on or before ``before``."""
    from .models import Screening, Status

    return (
        Screening.objects.filter(
            patient=patient,
            indication=indication,
            status=Status.SIGNED,
            screening_date__lte=before,
        )
        .select_related("created_by")
        .order_by("-screening_date", "-pk")
        .first()
    )


def copy_from_previous(facts, patient, indication, screening_date, window_days):
    """A copy of ``facts`` with what is still valid from the previous screening filled in
    where the record gave nothing newer; returns (facts, copied paths, left-out paths).

    ``facts["meta"]["copy"]`` names the screening copied from and what was left out and
    why; ``facts["meta"]["copied"][path]`` holds each copied value with who entered it,
    so the page names the source while the value is unchanged."""
    from .layout import groups_for

    previous = previous_screening(patient, indication, screening_date)
    if previous is None:
        return facts, [], []
    doc = _copy(facts)
    meta = doc.setdefault("meta", {})
    old = previous.facts or {}
    old_meta = old.get("meta") or {}
    oldest = screening_date - timedelta(days=window_days)
    answered_on = previous.screening_date
    copied, left_out = {}, []
    for group in groups_for(indication):
        path = group.path
        if group.kind in NOT_COPIED_KINDS or path in NOT_COPIED_PATHS:
            continue
        value = get_path(old, path)
        if value in (None, "", [], {}):
            continue
        current = get_path(doc, path)
        if group.kind in HISTORY_KINDS:
            reason = ""
        elif isinstance(value, dict) and isinstance(value.get("date"), str):
            reason = _outside(value["date"], oldest, screening_date)
        else:
            reason = _outside(answered_on.isoformat(), oldest, screening_date, answered=True)
        if reason:
            left_out.append({"path": path, "date": _date_of(value, answered_on), "reason": reason})
            continue
        if current not in (None, "", [], {}) and not _newer(value, current):
            continue  # the record gave a value at least as recent: it stays
        value = _copy(value)
        auto_uln = (old_meta.get("uln_sources") or {}).get(path)
        if isinstance(value, dict) and auto_uln and value.get("uln") == auto_uln.get("uln"):
            value.pop("uln", None)  # filled from the reference range: filled again now
        set_path(doc, path, value)
        (meta.get("sources") or {}).pop(path, None)
        copied[path] = {"value": value}
    if copied:
        names = _entered_by(previous, copied, old_meta.get("copied") or {})
        for path, item in copied.items():
            item["entered_by"] = names.get(path, "")
    meta["copied"] = copied
    meta["copy"] = {
        "screening": previous.pk,
        "screening_date": previous.screening_date.isoformat(),
        "window_days": window_days,
        "left_out": left_out,
    }
    return doc, sorted(copied), [item["path"] for item in left_out]


def _outside(day, oldest, screening_date, answered=False):
    """Why a value of ``day`` is not valid for a screening on ``screening_date``, or ""."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return "no_date"
    if when > screening_date:
        return "future"
    if when < oldest:
        return "answered_outside_window" if answered else "outside_window"
    return ""


def _date_of(value, answered_on):
    if isinstance(value, dict) and isinstance(value.get("date"), str):
        return value["date"]
    return answered_on.isoformat()


def _newer(value, current):
    """True when the copied value is dated after the one the record gave."""
    if not (isinstance(value, dict) and isinstance(current, dict)):
        return False
    return str(value.get("date") or "") > str(current.get("date") or "")


def _entered_by(previous, paths, copied_before):
    """{path: name} of who last entered each path in the previous screening's series, from
    the audit trail (a value it had itself copied keeps its first author); else the
    person who started that screening."""
    from core.models import AuditEvent

    from .models import Screening

    ids = [
        str(pk)
        for pk in Screening.objects.filter(series=previous.series).values_list("pk", flat=True)
    ]
    events = (
        AuditEvent.objects.filter(
            object_type=Screening._meta.label, object_id__in=ids, action="update"
        )
        .order_by("-seq")
        .select_related("actor")
        .only("new_values", "actor_username", "actor__first_name", "actor__last_name")
    )
    found = {}
    wanted = set(paths)
    for path in list(wanted):
        earlier = copied_before.get(path)
        if (
            earlier
            and earlier.get("entered_by")
            and earlier.get("value") == get_path(previous.facts, path)
        ):
            found[path] = earlier["entered_by"]
            wanted.discard(path)
    for event in events.iterator(chunk_size=100):
        if not wanted:
            break
        changed = (event.new_values or {}).get("facts") or {}
        for path in list(wanted):
            if any(key == path or key.startswith(path + ".") for key in changed):
                actor = event.actor
                found[path] = (actor.get_full_name() if actor else "") or event.actor_username
                wanted.discard(path)
    creator = previous.created_by.get_full_name() or previous.created_by.get_username()
    return {path: found.get(path, creator) for path in paths}


@functools.cache
def _last_recorded_sql():
    # Written out once: the same query through the ORM (two MAX subqueries) cost ~1 ms of
    # CPU to build on every screening page, against 0.03 ms to run.
    labs, measurements = LabResult._meta.db_table, Measurement._meta.db_table
    # Table names from the models; the patient id is a parameter.
    return (
        f"SELECT (SELECT MAX(recorded_at) FROM {labs} WHERE patient_id = %s),"  # noqa: S608
        f" (SELECT MAX(recorded_at) FROM {measurements} WHERE patient_id = %s)"
    )


def _aware(value):
    """A datetime as the ORM would give it: SQLite hands raw SQL text back, naive UTC."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def patient_data_changed_at(patient):
    """When the patient's record last changed: demographics, a measurement or a lab."""
    with connection.cursor() as cursor:
        cursor.execute(_last_recorded_sql(), [patient.pk, patient.pk])
        newest = cursor.fetchone()
    return max([patient.updated_at, *(_aware(at) for at in newest if at is not None)])


def is_outdated(screening, changed_at=None):
    """True when patient data was recorded after the screening was last evaluated."""
    if screening.evaluated_at is None:
        return True
    changed_at = changed_at or patient_data_changed_at(screening.patient)
    return changed_at > screening.evaluated_at
