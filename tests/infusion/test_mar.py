"""C-MAR-1: the medication administration record holds one row per due dose (each
antiplatelet day from day −1, B-AP-1; the dexamethasone, B-PREMED-1; the MSC infusion),
each given, held, refused or missed with who, when and why; a dose is never shown as
given unless someone recorded it."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from core.reminders.models import Reminder, ReminderStatus
from infusion import mar, services
from infusion.models import DoseDue, DoseState, OrderKind
from infusion.reminders import EPISODE_SUBJECT
from tests.infusion.conftest import open_episode, order_of
from tests.infusion.test_documents import pdf_text

pytestmark = pytest.mark.django_db


def doses(episode, kind):
    return list(DoseDue.objects.filter(order=order_of(episode, kind)).order_by("seq"))


def reminders(episode):
    return {
        r.step: r
        for r in Reminder.objects.filter(subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk))
    }


def mar_html(client, episode):
    body = client.get(f"/infusion/episodes/{episode.pk}/chart/").content.decode()
    return body[body.index('id="mar"') :]


def local_noon(day):
    return timezone.make_aware(datetime.combine(day, time(12)))


def test_opening_makes_one_due_dose_per_antiplatelet_day_the_dexamethasone_and_the_infusion(
    episode,
):
    ap = order_of(episode, OrderKind.ANTIPLATELET)
    course = doses(episode, OrderKind.ANTIPLATELET)
    # B-AP-1: 14 daily doses from day −1 (the day before the infusion).
    assert [d.day for d in course] == [ap.first_day + timedelta(days=n) for n in range(14)]
    assert ap.first_day == timezone.localdate(episode.planned_start) - timedelta(days=1)
    assert all(d.state == DoseState.DUE and d.planned_dose == ap.dose for d in course)
    (dexa,) = doses(episode, OrderKind.DEXAMETHASONE)  # B-PREMED-1
    assert dexa.due_from == episode.planned_start - timedelta(minutes=30)
    assert dexa.due_until == episode.planned_start + timedelta(minutes=30)
    (msc,) = doses(episode, OrderKind.MSC_IV)
    assert (msc.due_from, msc.due_until) == (
        episode.planned_start,
        episode.cold_chain_must_complete_by,
    )


def test_every_due_dose_has_a_reminder_day_minus_one_included(episode):
    rows = reminders(episode)
    course = doses(episode, OrderKind.ANTIPLATELET)
    day_minus_one = rows["antiplatelet_start"]  # B-AP-1: day −1
    assert day_minus_one.due_at == timezone.make_aware(datetime.combine(course[0].day, time(8)))
    assert day_minus_one.recipient_role == "nurse" and day_minus_one.rule_id == "B-AP-1"
    for dose in course[1:]:
        row = rows[f"antiplatelet_dose-{dose.seq + 1}"]
        assert row.due_at == dose.due_from and row.rule_id == "B-AP-1"
        assert f"dose {dose.seq + 1} of 14" in row.title_template % row.title_params
    assert rows["dexamethasone"].rule_id == "B-PREMED-1"


def test_one_dose_given_shows_one_given_and_thirteen_due_not_fourteen_administered(
    verified_episode, nurse, login
):
    ap = order_of(verified_episode, OrderKind.ANTIPLATELET)
    services.order_administer(order=ap, actor=nurse)
    course = doses(verified_episode, OrderKind.ANTIPLATELET)
    assert [d.state for d in course] == [DoseState.GIVEN] + [DoseState.DUE] * 13
    assert course[0].recorded_by == nurse and course[0].dose_given == ap.dose
    html = mar_html(login(nurse), verified_episode)
    ap_rows = [row for row in html.split("<tr ")[1:] if "Aspirin" in row or "aspirin" in row]
    assert len(ap_rows) == 14
    assert sum('class="chip dst-given"' in row for row in ap_rows) == 1
    assert sum('class="chip dst-due"' in row for row in ap_rows) == 13
    assert "Administered" not in html  # the order's status is not a dose's state
    assert nurse.get_full_name() in ap_rows[0]
    # The day's reminder closed; tomorrow's is still there.
    rows = reminders(verified_episode)
    assert rows["antiplatelet_start"].status == ReminderStatus.CANCELLED
    assert rows["antiplatelet_dose-2"].status == ReminderStatus.SCHEDULED


def test_a_nurse_records_a_dose_given_with_the_dose_actually_given_from_the_chart(
    verified_episode, nurse, login
):
    first = doses(verified_episode, OrderKind.ANTIPLATELET)[0]
    client = login(nurse)
    response = client.post(
        f"/infusion/orders/{first.order_id}/administer/",
        {"dose": first.pk, "outcome": "given", "dose_given": "75", "note": "with breakfast"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    first.refresh_from_db()
    assert (first.state, first.dose_given, first.recorded_by) == (
        DoseState.GIVEN,
        Decimal(75),
        nurse,
    )
    assert first.administration.dose == Decimal(75)
    assert "dose given: 75 mg" in response.content.decode()
    event = AuditEvent.objects.get(action="dose_given", object_id=str(first.pk))
    assert event.actor == nurse and event.new_values["state"] == "given"


def test_a_nurse_holds_a_dose_with_the_reason_and_it_is_not_given(verified_episode, nurse, login):
    (dexa,) = doses(verified_episode, OrderKind.DEXAMETHASONE)
    response = login(nurse).post(
        f"/infusion/orders/{dexa.order_id}/administer/",
        {"dose": dexa.pk, "outcome": "held", "note": "physician: hold, BP 85/50"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    dexa.refresh_from_db()
    assert (dexa.state, dexa.reason, dexa.recorded_by) == (
        DoseState.HELD,
        "physician: hold, BP 85/50",
        nurse,
    )
    assert dexa.administration is None and dexa.dose_given is None
    assert AuditEvent.objects.get(action="dose_hold", object_id=str(dexa.pk)).actor == nurse
    assert reminders(verified_episode)["dexamethasone"].status == ReminderStatus.CANCELLED
    # A held dose is final: it cannot then be recorded as given.
    with pytest.raises(services.ActionRefused):
        mar.dose_record_given(dose=dexa, actor=nurse)
    with pytest.raises(services.ActionRefused):
        services.order_administer(order=dexa.order, actor=nurse)


def test_a_held_or_refused_dose_needs_a_reason(verified_episode, nurse):
    (dexa,) = doses(verified_episode, OrderKind.DEXAMETHASONE)
    for record in (mar.dose_hold, mar.dose_refuse):
        with pytest.raises(services.ActionRefused) as refused:
            record(dose=dexa, actor=nurse, reason="  ")
        assert refused.value.code == "reason"
    dexa.refresh_from_db()
    assert dexa.state == DoseState.DUE


def test_a_dose_the_patient_refused_is_recorded_as_refused_with_what_they_said(
    verified_episode, nurse
):
    first = doses(verified_episode, OrderKind.ANTIPLATELET)[0]
    mar.dose_refuse(dose=first, actor=nurse, reason="patient declines: stomach upset")
    first.refresh_from_db()
    assert first.state == DoseState.REFUSED and first.at is not None
    assert AuditEvent.objects.filter(action="dose_refuse", object_id=str(first.pk)).exists()
    # The next day's dose is still due.
    assert doses(verified_episode, OrderKind.ANTIPLATELET)[1].state == DoseState.DUE


def test_a_dose_nobody_recorded_is_missed_by_the_sweeper_never_given(
    verified_episode, nurse, physician
):
    first = doses(verified_episode, OrderKind.ANTIPLATELET)[0]
    with time_machine.travel(first.due_until + timedelta(minutes=1), tick=False):
        marked = mar.doses_sweep_missed()
        assert first.pk in marked
        # A second sweeper (another worker, the next tick) finds nothing left to mark.
        assert mar.doses_sweep_missed() == []
    first.refresh_from_db()
    assert first.state == DoseState.MISSED and first.administration is None
    assert first.dose_given is None and first.recorded_by is None
    assert AuditEvent.objects.filter(action="dose_missed", object_id=str(first.pk)).count() == 1
    # The physicians are reminded (the escalation); the nurse's reminder is closed.
    rows = reminders(verified_episode)
    missed = rows["antiplatelet_start/missed"]
    assert missed.recipient_role == "physician" and missed.rule_id == "B-AP-1"
    assert missed.due_at == first.missed_at
    assert "Missed dose" in missed.title_template % missed.title_params
    assert rows["antiplatelet_start"].status == ReminderStatus.CANCELLED
    # Never "administered": the order stays verified, the next day still due.
    assert order_of(verified_episode, OrderKind.ANTIPLATELET).status == "verified"
    assert doses(verified_episode, OrderKind.ANTIPLATELET)[1].state == DoseState.DUE


def test_a_dose_given_in_its_window_can_still_be_recorded_after_it_was_marked_missed(
    verified_episode, nurse
):
    first = doses(verified_episode, OrderKind.ANTIPLATELET)[0]
    with time_machine.travel(first.due_until + timedelta(minutes=5), tick=False):
        mar.doses_sweep_missed()
        mar.dose_record_given(
            dose=first, actor=nurse, given_at=first.due_until - timedelta(hours=3)
        )
    first.refresh_from_db()
    assert first.state == DoseState.GIVEN and first.recorded_by == nurse
    event = AuditEvent.objects.get(action="dose_given", object_id=str(first.pk))
    assert event.new_values["late"] is True


def test_the_sweeper_leaves_a_dose_recorded_at_that_moment_alone(verified_episode, nurse):
    first = doses(verified_episode, OrderKind.ANTIPLATELET)[0]
    services.order_administer(order=first.order, actor=nurse)
    with time_machine.travel(first.due_until + timedelta(minutes=1), tick=False):
        assert first.pk not in mar.doses_sweep_missed()
    first.refresh_from_db()
    assert first.state == DoseState.GIVEN


@pytest.mark.parametrize("who", ["pharmacist", "auditor", "nurse_b", "physician"])
def test_only_a_nurse_of_the_ward_records_a_dose(verified_episode, who, request, login):
    user = request.getfixturevalue(who)
    (dexa,) = doses(verified_episode, OrderKind.DEXAMETHASONE)
    for record in (
        lambda: mar.dose_record_given(dose=dexa, actor=user),
        lambda: mar.dose_hold(dose=dexa, actor=user, reason="x"),
        lambda: mar.dose_refuse(dose=dexa, actor=user, reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            record()
    response = login(user).post(
        f"/infusion/orders/{dexa.order_id}/administer/",
        {"dose": dexa.pk, "outcome": "held", "note": "x"},
    )
    assert response.status_code == (404 if who == "nurse_b" else 403)
    dexa.refresh_from_db()
    assert dexa.state == DoseState.DUE


def test_a_dose_of_another_order_is_not_found(verified_episode, nurse, login):
    (dexa,) = doses(verified_episode, OrderKind.DEXAMETHASONE)
    ap = order_of(verified_episode, OrderKind.ANTIPLATELET)
    response = login(nurse).post(
        f"/infusion/orders/{ap.pk}/administer/", {"dose": dexa.pk, "outcome": "given"}
    )
    assert response.status_code == 404


def test_the_mar_pdf_prints_the_same_rows(verified_episode, nurse, login):
    course = doses(verified_episode, OrderKind.ANTIPLATELET)
    services.order_administer(order=course[0].order, actor=nurse)
    (dexa,) = doses(verified_episode, OrderKind.DEXAMETHASONE)
    mar.dose_hold(dose=dexa, actor=nurse, reason="held by the physician")
    client = login(nurse)
    html = mar_html(client, verified_episode)
    text = pdf_text(client.get(f"/infusion/episodes/{verified_episode.pk}/infusion-record.pdf"))
    text = " ".join(text.split())
    section = text[text.rindex("Medication administration record") :]
    for n in ["−1", *range(13)]:  # B-AP-1: from the day before the infusion, 14 days
        assert f"(day {n})" in section, n
    assert len(re.findall(r"\(day −1\) Given", section)) == 1
    assert len(re.findall(r"\(day \d+\) Due", section)) == 13
    assert "Held" in section and "held by the physician" in section
    # The same rows on the chart and on paper: one state per due dose.
    printed = re.findall(
        r"(?:\(day −?\d+\)|\d{4}-\d\d-\d\d \d\d:\d\d) (Given|Held|Due|Refused|Missed)", section
    )
    shown = re.findall(r'class="chip dst-(\w+)"', html)
    assert sorted(s.lower() for s in printed) == sorted(shown) and len(shown) == 16


def test_a_course_whose_first_day_is_past_is_warned_and_the_physician_starts_it_today(
    weighed_patient, physician
):
    today = timezone.localdate()
    start = local_noon(today)  # the infusion today: day −1 was yesterday
    with pytest.raises(services.ActionRefused) as refused:
        open_episode(weighed_patient, physician, start=start, acknowledged=False)
    finding = next(f for f in refused.value.findings if f.status == "course_start_past")
    assert finding.rule_id == "B-AP-1" and finding.severity == "warning"
    assert DoseDue.objects.count() == 0

    episode = services.episode_open(
        patient=weighed_patient,
        actor=physician,
        data=__import__("infusion.demo", fromlist=["episode_data"]).episode_data(start),
        acknowledged=True,
        antiplatelet_from_today=True,
    )
    ap = order_of(episode, OrderKind.ANTIPLATELET)
    assert ap.first_day == today and ap.last_day == today + timedelta(days=12)
    course = doses(episode, OrderKind.ANTIPLATELET)
    assert course[0].day == today and len(course) == 13
    assert AuditEvent.objects.get(action="antiplatelet_start_today").new_values == {
        "first_day": today.isoformat()
    }


def test_the_episode_form_shows_the_past_first_day_and_the_choice(
    weighed_patient, physician, login
):
    from infusion.demo import episode_data
    from tests.infusion.conftest import form_post

    start = local_noon(timezone.localdate())
    response = login(physician).post(
        f"/infusion/patients/{weighed_patient.pk}/open/",
        form_post(episode_data(start), preview="1"),
    )
    body = response.content.decode()
    assert "which is already past" in body
    assert 'name="antiplatelet_from_today"' in body
