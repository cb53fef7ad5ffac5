"""C-MAR-1 with real processes: `celery beat` and a `celery worker` on a private Redis mark
a due dose nobody recorded as missed (the sweeper of infusion.tasks), exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from core.reminders.models import Reminder
from infusion.models import DoseDue, DoseState
from infusion.reminders import EPISODE_SUBJECT
from tests.infusion.conftest import open_episode
from tests.reminders.test_reliability import cluster, wait_for  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_beat_and_a_worker_mark_a_past_dose_missed_and_remind_the_physicians(
    cluster,  # noqa: F811
    weighed_patient,
    physician,
    monkeypatch,
):
    # Recorded after the fact: the course's first days and the dexamethasone are past.
    episode = open_episode(weighed_patient, physician, start=timezone.now() - timedelta(days=2))
    past = set(
        DoseDue.objects.filter(episode=episode, due_until__lte=timezone.now()).values_list(
            "pk", flat=True
        )
    )
    assert past
    monkeypatch.setenv("DOSE_SWEEP_SECONDS", "10")  # beat's schedule (the minimum)
    cluster.worker()
    cluster.beat()

    def all_missed():
        return (
            set(
                DoseDue.objects.filter(pk__in=past, state=DoseState.MISSED).values_list(
                    "pk", flat=True
                )
            )
            == past
        )

    wait_for(all_missed, 60, "the past doses marked missed", cluster.logs())
    for pk in past:
        assert AuditEvent.objects.filter(action="dose_missed", object_id=str(pk)).count() == 1
    missed = Reminder.objects.filter(
        subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk), step__endswith="/missed"
    )
    assert missed.count() == len(past)
    assert set(missed.values_list("recipient_role", flat=True)) == {"physician"}
    assert not DoseDue.objects.filter(episode=episode, state=DoseState.GIVEN).exists()
