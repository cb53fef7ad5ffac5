"""Bulk seeding for the scale benchmarks: patients and audit events by COPY, in minutes.

    DATABASE_URL=… .venv/bin/python bench/seed_scale.py --patients 100000 --audit-events 1000000

Adds patients (with a weight and a platelet count each, and their three "create" audit
events) up to --patients, then audit events up to --audit-events, appended to the chain
exactly as core/audit.py `record()` appends them: each event's seq follows the head's,
its prev_hash is the head's entry_hash and its entry_hash the HMAC under
settings.AUDIT_HMAC_KEY_ID (`audit.compute_hash`), so `manage.py audit_verify` passes on
the result. Each batch of 50,000 rows is one COPY in its own transaction, holding the
chain's advisory lock as `record()` does: an interrupted run leaves a valid chain.

The rows bypass the service functions (and their per-row audit), which is the point:
one service call per row would take hours for a million events. The audit events the
bulk patients get are the ones the services would have written; the filler events past
them are weight records of those patients (the rows themselves are not kept).
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
BATCH = 50_000


def setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _copy(table, columns, rows):
    from django.db import connection

    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def add_patients(target, rng):
    """Patients up to `target`, each with a weight and a platelet count; returns what
    their audit events need: (patient id, ward id, name, sex, birth date, hospital number,
    measurement id, lab result id, the nurse who recorded them)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.models import Patient, User, Ward

    have = Patient.objects.count()
    if have >= target:
        return None
    wards = list(Ward.objects.order_by("code").values_list("pk", flat=True))
    nurses = {
        w: User.objects.filter(ward_id=w, groups__name="nurse").order_by("pk").first()
        for w in wards
    }
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM core_patient")
        (last_id,) = cursor.fetchone()
    with transaction.atomic():
        _copy(
            "core_patient",
            (
                "hospital_number",
                "name",
                "sex",
                "date_of_birth",
                "ward_id",
                "created_at",
                "updated_at",
            ),
            (
                (
                    f"S{i:07d}",
                    f"Scale {i}",
                    "F" if i % 3 else "M",
                    date(1950, 1, 1) + timedelta(days=rng.randint(0, 25000)),
                    wards[i % len(wards)],
                    now,
                    now,
                )
                for i in range(have, target)
            ),
        )
        patients = list(
            Patient.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "ward_id", "name", "sex", "date_of_birth", "hospital_number")
        )
        measured = now - timedelta(days=2)
        _copy(
            "core_measurement",
            ("patient_id", "kind", "value", "measured_at", "recorded_by_id", "recorded_at"),
            ((p[0], "weight_kg", "60.00", measured, nurses[p[1]].pk, now) for p in patients),
        )
        _copy(
            "core_labresult",
            (
                "patient_id",
                "analyte",
                "value",
                "unit",
                "lab",
                "observed_at",
                "recorded_by_id",
                "recorded_at",
            ),
            (
                (
                    p[0],
                    "platelets",
                    "180",
                    "10^9/L",
                    "Hospital central lab",
                    measured,
                    nurses[p[1]].pk,
                    now,
                )
                for p in patients
            ),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT patient_id, id FROM core_measurement WHERE patient_id > %s", [last_id]
            )
            measurement = dict(cursor.fetchall())
            cursor.execute(
                "SELECT patient_id, id FROM core_labresult WHERE patient_id > %s", [last_id]
            )
            lab = dict(cursor.fetchall())
    return [(*p, measurement[p[0]], lab[p[0]], nurses[p[1]]) for p in patients], measured


def _patient_events(patients, measured):
    """The three events `services.patient_create`, `measurement_record` and
    `lab_result_record` write for each patient."""
    from core.audit import normalise

    when = normalise(measured)
    for pk, ward, name, sex, born, number, measurement, lab, nurse in patients:
        actor = {"actor_id": nurse.pk, "actor_username": nurse.username, "actor_role": "nurse"}
        yield dict(
            action="create",
            object_type="core.Patient",
            object_id=str(pk),
            patient_id=pk,
            new_values={
                "hospital_number": number,
                "name": name,
                "sex": sex,
                "date_of_birth": born.isoformat(),
                "ward": ward,
            },
            **actor,
        )
        yield dict(
            action="create",
            object_type="core.Measurement",
            object_id=str(measurement),
            patient_id=pk,
            new_values={"kind": "weight_kg", "value": "60.00", "measured_at": when, "patient": pk},
            **actor,
        )
        yield dict(
            action="create",
            object_type="core.LabResult",
            object_id=str(lab),
            patient_id=pk,
            new_values={
                "analyte": "platelets",
                "value": "180",
                "unit": "10^9/L",
                "lab": "Hospital central lab",
                "observed_at": when,
                "patient": pk,
            },
            **actor,
        )


def _filler_events(count, rng):
    """Weight records of random patients (the history of a busy ward)."""
    from django.db import connection

    from core.models import User

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM core_patient ORDER BY id")
        patient_ids = [row[0] for row in cursor.fetchall()]
    nurses = list(User.objects.filter(groups__name="nurse").order_by("pk"))
    for n in range(count):
        pk = rng.choice(patient_ids)
        nurse = nurses[n % len(nurses)]
        yield dict(
            action="create",
            object_type="core.Measurement",
            object_id=f"h{n}",
            patient_id=pk,
            new_values={
                "kind": "weight_kg",
                "value": f"{rng.randint(450, 900) / 10:.2f}",
                "patient": pk,
            },
            actor_id=nurse.pk,
            actor_username=nurse.username,
            actor_role="nurse",
            request_id=f"{rng.getrandbits(64):016x}",
            client_ip=f"10.0.{n % 250}.{n % 199 + 1}",
        )


def append_events(events, total):
    """Append `events` (dicts of an event's fields) to the chain, in batches; returns the
    number written. Each event is hashed by `audit.compute_hash` semantics, inline."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from core import audit
    from core.version import app_version

    kid = settings.AUDIT_HMAC_KEY_ID
    key = audit.hmac_key(kid)
    version = app_version()
    written = 0
    events = iter(events)
    while written < total:
        batch = []
        for fields in events:
            batch.append(fields)
            if len(batch) == BATCH:
                break
        if not batch:
            break
        with transaction.atomic():
            last = audit._lock_chain_and_read_last()
            head = AuditEventHead(last)
            now = timezone.now()
            # Spread the batch between the head's time and now, in order.
            span = max(now - head.at, timedelta(microseconds=len(batch)))
            step = span / len(batch)

            def rows(head=head, batch=batch, step=step):
                seq, prev = head.seq, head.hash
                for i, fields in enumerate(batch, start=1):
                    seq += 1
                    event = SimpleNamespace(
                        **{
                            **dict.fromkeys(audit.VERIFIED_FIELDS),
                            "reason": "",
                            "request_id": "",
                            **fields,
                            "seq": seq,
                            "at": head.at + step * i,
                            "app_version": version,
                            "key_id": kid,
                            "prev_hash": prev,
                        }
                    )
                    payload = (prev + audit._canonical(audit._content(event))).encode("utf-8")
                    event.entry_hash = hmac.new(key, payload, hashlib.sha256).hexdigest()
                    prev = event.entry_hash
                    yield tuple(
                        json.dumps(getattr(event, c))
                        if c in ("old_values", "new_values") and getattr(event, c) is not None
                        else getattr(event, c)
                        for c in audit.VERIFIED_FIELDS
                    )

            _copy("core_auditevent", audit.VERIFIED_FIELDS, rows())
        written += len(batch)
    return written


class AuditEventHead:
    def __init__(self, last):
        from django.utils import timezone

        from core.audit import GENESIS_HASH
        from core.models import AuditEvent

        if last:
            self.seq, self.hash = last["seq"], last["entry_hash"]
            self.at = AuditEvent.objects.filter(seq=self.seq).values_list("at", flat=True)[0]
        else:
            self.seq, self.hash, self.at = 0, GENESIS_HASH, timezone.now() - timedelta(days=1)


def seed(patients, audit_events, *, out=print):
    from django.db import connection

    from core.models import AuditEvent

    rng = random.Random(23)
    started = time.perf_counter()
    added = add_patients(patients, rng)
    if added:
        rows, measured = added
        written = append_events(_patient_events(rows, measured), 3 * len(rows))
        out(f"added {len(rows)} patients and their {written} audit events")
    events = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    if audit_events and events < audit_events:
        written = append_events(_filler_events(audit_events - events, rng), audit_events - events)
        out(f"added {written} audit events")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    out(f"seeded in {time.perf_counter() - started:.0f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=0)
    ap.add_argument("--audit-events", type=int, default=0)
    args = ap.parse_args()
    setup()
    seed(args.patients, args.audit_events)


if __name__ == "__main__":
    main()
