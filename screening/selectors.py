"""Reads: a user's screenings, a screening's criteria and missing items for the page,
the screening log's filters and the CONSORT-style flow counts."""

from collections import Counter, defaultdict
from functools import cache

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.access import get_for_user, scoped_for_user
from core.models import LabResult, Measurement, Role
from screening.engine import render, render_reason

from .fields import anchor_id, group_for_path, label_for_path
from .models import INDICATION_CHOICES, Outcome, Screening, Status

_STATUS_LABELS = {
    "met": gettext_noop("met"),
    "not_met": gettext_noop("not met"),
    "unknown": gettext_noop("unknown"),
}


def status_label(status):
    # Only the label shown is translated (a page asks for each of its ~30 criteria).
    label = _STATUS_LABELS.get(status)
    return _(label) if label else status


def screenings_for_user(user):
    return scoped_for_user(user, Screening.objects.all())


def with_row_version(qs):
    """Annotate each screening with its row version (``row_version``), which a write of
    the row always changes: PostgreSQL's ``xmin``, the transaction that wrote it. A save
    compares it under the row lock instead of reading the whole row again."""
    if connection.vendor != "postgresql":
        return qs
    table = connection.ops.quote_name(Screening._meta.db_table)
    return qs.annotate(row_version=RawSQL(f"{table}.xmin::text", ()))  # noqa: S611 (no input)


def get_screening_for_user(user, pk):
    """The screening if the user's ward holds it (auditors: any), with its patient, ward
    and row version, in one query; else 404, audited (the one access check).

    The page and every live re-evaluation read it; the queryset's joins and columns are
    shaped once per process (``_screening_shape``) and only filtered here."""
    return get_for_user(
        user, _screening_shape().all(), pk, ward_path="patient__ward", patient_path="patient_id"
    )


@cache
def _screening_shape():
    # Never evaluated itself (``.all()`` gives each request its own copy), so it holds no rows.
    return with_row_version(Screening.objects.select_related("patient", "patient__ward"))


def patient_screenings(patient):
    """The current version of each of the patient's screenings, newest first."""
    return list(
        Screening.objects.filter(patient=patient)
        .exclude(status=Status.SUPERSEDED)
        .order_by("-screening_date", "-pk")[:20]
    )


def series_versions(screening):
    """Every version of the screening's series, oldest first."""
    # Only an amendment adds a version (previous set, the amended one superseded), so a
    # first version that is not superseded is alone: most drafts, no query needed.
    if screening.previous_id is None and screening.status != Status.SUPERSEDED:
        return [screening]
    # The version list shows number, status and signer (signer_name is stored on the
    # row): the large JSON columns stay in the database.
    return list(
        Screening.objects.filter(series=screening.series)
        .only("pk", "series", "version", "status", "signer_name", "signed_at")
        .order_by("version")
    )


def criteria(screening):
    """The criteria of the last evaluation, translated, in the protocol's order."""
    evaluation = screening.evaluation or {}
    out = []
    for c in evaluation.get("criteria", []):
        out.append(
            {
                "rule_id": c["rule_id"],
                "title": _(c["title"]),
                "status": c["status"],
                "status_label": status_label(c["status"]),
                "reason": render_reason(c, _),
                "values": c.get("values") or {},
                "observed_on": c.get("observed_on") or [],
            }
        )
    return out


def missing_items(screening):
    """What is still needed to decide, each with the form anchor it jumps to."""
    evaluation = screening.evaluation or {}
    out, seen = [], set()
    for item in evaluation.get("missing", []):
        key = (item["field"], item["rule_id"])
        if key in seen:
            continue
        seen.add(key)
        group = group_for_path(screening.indication, item["field"])
        out.append(
            {
                "field": item["field"],
                "label": label_for_path(screening.indication, item["field"]),
                "rule_id": item["rule_id"],
                "reason": render(
                    {"template": item["reason_template"], "params": item["reason_params"]}, _
                ),
                "anchor": group.anchor if group is not None else anchor_id(item["field"]),
            }
        )
    return out


# --- The screening log -------------------------------------------------------------------


def log_queryset(user, filters):
    """Current versions (drafts and signed) visible to the user, filtered."""
    qs = (
        screenings_for_user(user)
        .exclude(status=Status.SUPERSEDED)
        .select_related("patient", "patient__ward")
        .order_by("-screening_date", "-pk")
    )
    if filters.get("indication"):
        qs = qs.filter(indication=filters["indication"])
    if filters.get("outcome"):
        qs = qs.filter(outcome=filters["outcome"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("date_from"):
        qs = qs.filter(screening_date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(screening_date__lte=filters["date_to"])
    if filters.get("ward"):
        qs = qs.filter(patient__ward=filters["ward"])
    return qs


def with_data_changed_at(qs):
    """Annotate when each patient's labs and weights were last recorded (outdated flags)."""
    labs = LabResult.objects.filter(patient=OuterRef("patient")).order_by("-recorded_at")
    weights = Measurement.objects.filter(patient=OuterRef("patient")).order_by("-recorded_at")
    return qs.annotate(
        last_lab_at=Subquery(labs.values("recorded_at")[:1]),
        last_measurement_at=Subquery(weights.values("recorded_at")[:1]),
    )


def is_row_outdated(row):
    if row.evaluated_at is None:
        return True
    latest = [row.patient.updated_at, row.last_lab_at, row.last_measurement_at]
    return max(t for t in latest if t is not None) > row.evaluated_at


def flow_counts(qs):
    """Counts for the flow diagram from one query: screened → per indication → outcome
    (ineligible: per failing rule) → signed."""
    rows = qs.order_by().values_list(
        "indication", "outcome", "status", "failing_rules", "patient_id"
    )
    per = {code: defaultdict(int) for code, _label in INDICATION_CHOICES}
    rules = {code: Counter() for code, _label in INDICATION_CHOICES}
    total = 0
    patients = set()  # a patient screened for two indications is one person
    for indication, outcome, status, failing, patient_id in rows:
        total += 1
        patients.add(patient_id)
        counts = per.setdefault(indication, defaultdict(int))
        counts["screened"] += 1
        counts[outcome] += 1
        if status == Status.SIGNED:
            counts["signed"] += 1
            counts[f"signed_{outcome}"] += 1
        if outcome == Outcome.INELIGIBLE:
            rules.setdefault(indication, Counter()).update(failing or [])
    return {
        "total": total,
        "patients": len(patients),
        "indications": [
            {
                "code": code,
                "label": label,
                "screened": per[code]["screened"],
                "eligible": per[code][Outcome.ELIGIBLE],
                "ineligible": per[code][Outcome.INELIGIBLE],
                "incomplete": per[code][Outcome.INCOMPLETE],
                "signed": per[code]["signed"],
                "signed_eligible": per[code]["signed_eligible"],
                "signed_ineligible": per[code]["signed_ineligible"],
                "rules": sorted(rules[code].items(), key=lambda kv: (-kv[1], kv[0])),
            }
            for code, label in INDICATION_CHOICES
        ],
    }


def visible_wards(user):
    from core.models import Ward

    if user.role == Role.AUDITOR:
        return Ward.objects.order_by("code")
    return Ward.objects.filter(pk=user.ward_id)
