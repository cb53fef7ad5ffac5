"""Fixtures for the reminder tests: a `remind(...)` factory with sensible defaults, and
outboxes for what the sweeper enqueues."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from core.reminders import services

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def remind(ward_a, patient):
    """remind(step=..., due_at=..., **overrides) -> a scheduled Reminder (for the patient)."""
    counter = {"n": 0}

    def _remind(step=None, *, due_at=None, subject_id=None, **overrides):
        counter["n"] += 1
        fields = {
            "subject_type": "infusion.Episode",
            "subject_id": subject_id if subject_id is not None else 1,
            "step": step or f"step-{counter['n']}",
            "due_at": due_at or timezone.now(),
            "patient": patient,
            "ward": ward_a,
            "recipient_role": "nurse",
            "title_template": "Give dexamethasone 5 mg IV to %(patient)s",
            "title_params": {"patient": patient.name},
            "rule_id": "B-PREMED-1",
        }
        if "recipient_user" in overrides and "recipient_role" not in overrides:
            fields["recipient_role"] = None
        fields.update(overrides)
        return services.reminder_schedule(**fields)

    return _remind


@pytest.fixture
def enqueued():
    """The ids the sweeper handed to delivery (instead of the broker), in order."""
    return []


@pytest.fixture
def run_sweep(enqueued, django_capture_on_commit_callbacks):
    """run_sweep(now=None, **kwargs) -> claimed ids; the on-commit enqueue really runs."""

    def _run(now=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.sweep(now, enqueue=enqueued.extend, **kwargs)

    return _run


def minutes(n):
    return timedelta(minutes=n)
