"""Issue 16, item 4: names reach e-mail headers. A control character or line break in a
patient's name is refused at entry, and a name that already holds one (stored before the
check) never breaks a reminder e-mail: its subject is one clean header line."""

from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
import time_machine
from django.core import mail
from django.db import connection

from core import services as core_services
from core.models import Patient
from core.reminders import services
from core.reminders.models import ReminderStatus
from tests.reminders.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["Alice\rExample", "Alice\nExample", "Alice\x0bExample"])
def test_a_patient_name_with_a_control_character_is_refused_at_entry(login, nurse, name):
    client = login(nurse)
    response = client.post(
        "/patients/new/",
        {
            "hospital_number": "H-CTRL-1",
            "name": name,
            "sex": "F",
            "date_of_birth": "1980-01-01",
            "ward": nurse.ward_id,
        },
    )
    assert response.status_code in (200, 400)
    assert not Patient.objects.filter(hospital_number="H-CTRL-1").exists()
    body = response.content.decode()
    assert "control character" in body


def test_the_patient_services_refuse_a_name_with_a_line_break(nurse, patient):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        core_services.patient_update(
            actor=nurse, patient=patient, data={"name": "Alice\u2028Example"}, reason="typo"
        )
    assert "name" in raised.value.message_dict
    patient.refresh_from_db()
    assert patient.name == "Alice Example"


@pytest.mark.parametrize("stored", ["Alice\x0bExample", "Alice\rExample\x0c", "Alice\x1c\x85Ex"])
def test_a_reminder_about_a_patient_whose_stored_name_holds_a_control_character_is_delivered(
    nurse, patient, remind, run_sweep, stored
):
    nurse.email = "nurse@ward.example"
    nurse.save()
    with connection.cursor() as cursor:  # straight into the table, as before the check
        cursor.execute("UPDATE core_patient SET name = %s WHERE id = %s", [stored, patient.pk])
    reminder = remind(due_at=T0, title_params={"patient": Patient.objects.get().name})
    with time_machine.travel(T0, tick=False):
        run_sweep()
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        assert services.deliver(reminder.pk) == "sent"
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    [message] = mail.outbox
    assert "Give dexamethasone 5 mg IV to Alice" in message.subject
    assert not any(c in message.subject for c in "\r\n\x0b\x0c\x1c\x85")
    # As sent: one Subject header, nothing split off it into a header of its own.
    parsed = message_from_bytes(message.message().as_bytes())
    assert set(parsed.keys()) == {
        "Content-Type",
        "MIME-Version",
        "Content-Transfer-Encoding",
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
    }
    subject = str(make_header(decode_header(parsed["Subject"])))
    assert " ".join(subject.split()) == " ".join(message.subject.split())
