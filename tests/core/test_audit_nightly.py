"""The nightly full verification of the audit chain (beat): its result is what the audit
browser's chain panel reports as the last full verification (issue 23)."""

import pytest
from django.conf import settings

from core import audit
from core.models import AuditChainState, AuditEvent
from core.tasks import verify_audit_chain

pytestmark = pytest.mark.django_db


def test_beat_runs_the_full_verification_nightly():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-full-verify"]
    assert entry["task"] == "core.tasks.verify_audit_chain"
    assert entry["schedule"].hour == {settings.AUDIT_FULL_VERIFY_UTC_HOUR}


def test_the_nightly_run_is_what_the_panel_reports(nurse, patient, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path)
    for weight in ("60.0", "61.0"):
        audit.record("measurement.record", actor=nurse, patient=patient, new={"kg": weight})
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    verify_audit_chain()
    state = AuditChainState.objects.get(pk=1)
    assert state.full_ok and state.full_seq == head
    progress = audit.verify_new_events()
    assert progress.ok and progress.full_seq == head
    assert head is not None


def test_a_break_found_at_night_stays_on_the_panel(nurse, patient, settings, tmp_path):
    from tests.core.test_audit_integrity import _tamper

    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path)
    event = audit.record("measurement.record", actor=nurse, patient=patient, new={"kg": "60"})
    audit.record("measurement.record", actor=nurse, patient=patient, new={"kg": "61"})
    _tamper("UPDATE core_auditevent SET reason = 'rewritten' WHERE seq = %s", [event.seq])
    verify_audit_chain()  # logs the break, does not raise in the worker
    progress = audit.verify_new_events()
    assert not progress.ok and progress.first_broken_seq == event.seq
