"""The administrator's audit browser: filters, paging, CSV export and chain status."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import audit, context
from core.models import AuditEvent
from core.version import app_version
from tests.factories import make_user

pytestmark = pytest.mark.django_db

WARD_TZ = ZoneInfo("Asia/Shanghai")


def _note(actor, marker, *, action="note", **kwargs):
    kwargs.setdefault("object_type", "test.Thing")
    kwargs.setdefault("object_id", "1")
    return audit.record(action, actor=actor, reason=marker, **kwargs)


def _at(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=WARD_TZ)


def test_it_lists_the_newest_events_first(login, auditor, physician):
    _note(physician, "marker-older")
    _note(physician, "marker-newer")
    body = login(auditor).get("/audit/").content.decode()
    assert body.index("marker-newer") < body.index("marker-older")


def test_it_filters_by_user(login, auditor, physician, nurse):
    _note(physician, "marker-by-doctor")
    _note(nurse, "marker-by-nurse")
    body = login(auditor).get("/audit/", {"user": "nurse"}).content.decode()
    assert "marker-by-nurse" in body
    assert "marker-by-doctor" not in body


def test_it_filters_by_patient_hospital_number(login, auditor, physician, patient, patient_b):
    _note(physician, "marker-alice", patient=patient)
    _note(physician, "marker-bob", patient=patient_b)
    number = patient.hospital_number.lower()  # matched without regard to case
    body = login(auditor).get("/audit/", {"patient": f" {number} "}).content.decode()
    assert "marker-alice" in body
    assert "marker-bob" not in body


def test_an_unknown_patient_matches_nothing(login, auditor, physician, patient):
    _note(physician, "marker-alice", patient=patient)
    body = login(auditor).get("/audit/", {"patient": "NO-SUCH"}).content.decode()
    assert "marker-alice" not in body
    assert "No events match." in body


def test_it_filters_by_action(login, auditor, physician):
    _note(physician, "marker-create", action="create")
    _note(physician, "marker-sign", action="sign")
    body = login(auditor).get("/audit/", {"action": "SIGN"}).content.decode()
    assert "marker-sign" in body
    assert "marker-create" not in body


def test_it_filters_by_object_type(login, auditor, physician):
    _note(physician, "marker-order", object_type="infusion.InfusionOrder")
    _note(physician, "marker-patient", object_type="core.Patient")
    body = login(auditor).get("/audit/", {"object_type": "infusionorder"}).content.decode()
    assert "marker-order" in body
    assert "marker-patient" not in body


def test_it_filters_by_object_type_and_id_together(login, auditor, physician):
    _note(physician, "marker-order-7", object_type="infusion.Order", object_id="7")
    _note(physician, "marker-order-70", object_type="infusion.Order", object_id="70")
    _note(physician, "marker-patient-7", object_type="core.Patient", object_id="7")
    response = login(auditor).get("/audit/", {"object_type": "infusion.order", "object_id": "7"})
    body = response.content.decode()
    assert "marker-order-7" in body
    assert "marker-order-70" not in body and "marker-patient-7" not in body
    assert 'name="object_id"' in body and 'value="7"' in body


def test_it_filters_by_ward_dates_inclusive_of_both_days(login, auditor, physician):
    for when, marker in [
        (_at(2026, 11, 3, 23, 59), "marker-before"),
        (_at(2026, 11, 4, 0, 1), "marker-first-day"),  # 16:01 UTC on the 3rd
        (_at(2026, 11, 6, 23, 30), "marker-last-day"),  # 15:30 UTC on the 6th
        (_at(2026, 11, 7, 0, 30), "marker-after"),  # still the 6th in UTC
    ]:
        with time_machine.travel(when, tick=False):
            _note(physician, marker)
    body = (
        login(auditor)
        .get("/audit/", {"date_from": "2026-11-04", "date_to": "2026-11-06"})
        .content.decode()
    )
    assert "marker-first-day" in body and "marker-last-day" in body
    assert "marker-before" not in body and "marker-after" not in body


def test_an_end_date_before_the_start_date_is_refused(login, auditor, physician):
    _note(physician, "marker-any")
    client = login(auditor)
    response = client.get("/audit/", {"date_from": "2026-11-06", "date_to": "2026-11-04"})
    body = response.content.decode()
    assert "The end date is before the start date." in body
    assert "marker-any" not in body
    export = client.get("/audit/export.csv", {"date_from": "2026-11-06", "date_to": "2026-11-04"})
    assert export.status_code == 400


def test_page_two_shows_the_older_events_and_keeps_the_filter(login, auditor, physician):
    for i in range(1, 31):
        _note(physician, f"marker-{i:02d}")
    client = login(auditor)
    first = client.get("/audit/", {"action": "note"}).content.decode()
    assert "Page 1 of 2" in first
    assert "marker-30" in first and "marker-06" in first and "marker-05" not in first
    assert "?action=note&amp;page=2" in first

    second = client.get("/audit/", {"action": "note", "page": 2}).content.decode()
    assert "Page 2 of 2" in second
    assert all(f"marker-{i:02d}" in second for i in range(1, 6))
    assert "marker-06" not in second


def test_the_whole_trail_pages_by_its_newest_seq_without_counting_rows(login, auditor, physician):
    for i in range(1, 52):
        _note(physician, f"marker-{i:02d}")
    client = login(auditor)  # the sign-in is event 52
    total = AuditEvent.objects.count()
    pages = -(-total // 25)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/audit/").content.decode()
    assert f"Page 1 of {pages}" in first and "marker-51" in first
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
    last = client.get("/audit/", {"page": pages}).content.decode()
    assert f"Page {pages} of {pages}" in last and "marker-01" in last
    beyond = client.get("/audit/", {"page": pages + 5}).content.decode()
    assert f"Page {pages} of {pages}" in beyond  # past the end: the last page
    filtered = client.get("/audit/", {"action": "note", "page": 3}).content.decode()
    assert "Page 3 of 3" in filtered and "marker-01" in filtered  # a filter still counts


def test_the_htmx_filter_renders_only_the_table(login, auditor, physician):
    _note(physician, "marker-x")
    response = login(auditor).get(
        "/audit/", {"action": "note"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-table"
    )
    body = response.content.decode()
    assert "marker-x" in body
    assert body.lstrip().startswith('<div id="audit-table">')
    assert "<html" not in body


def _csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_export_has_a_header_and_one_row_per_matching_event(
    login, auditor, physician, patient, settings
):
    kept = audit.record(
        "update",
        actor=physician,
        obj=patient,
        patient=patient,
        old={"name": "Old"},
        new={"name": "New 新"},
        reason="marker-kept",
    )
    _note(physician, "marker-other", action="create")
    response = login(auditor).get("/audit/export.csv", {"action": "update"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == [
        "seq",
        "at_utc",
        "actor",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "old_values",
        "new_values",
        "reason",
        "request_id",
        "client_ip",
        "app_version",
        "key_id",
        "entry_hash",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["seq"] == str(kept.seq)
    assert row["actor"] == "doc"
    assert row["actor_role"] == "physician"
    assert row["app_version"] == app_version() and row["app_version"]
    assert row["key_id"] == settings.AUDIT_HMAC_KEY_ID
    assert row["object_type"] == "core.Patient"
    assert row["patient_id"] == str(patient.pk)
    assert row["old_values"] == '{"name":"Old"}'
    assert row["new_values"] == '{"name":"New 新"}'
    assert row["reason"] == "marker-kept"
    assert row["entry_hash"] == kept.entry_hash


def test_an_unfiltered_export_contains_every_event(login, auditor, physician):
    events = [_note(physician, f"marker-{i}") for i in range(3)]
    rows = _csv_rows(login(auditor).get("/audit/export.csv"))
    seqs = {r[0] for r in rows[1:]}
    assert {str(e.seq) for e in events} <= seqs


def test_the_chain_status_says_verified_when_intact(login, auditor, physician):
    _note(physician, "marker-a")
    body = login(auditor).get("/audit/chain/").content.decode()
    assert "Hash chain verified" in body
    assert "BROKEN" not in body


def test_a_broken_chain_names_the_tampered_event(login, auditor, physician):
    events = [_note(physician, f"marker-{i}") for i in range(4)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # trigger off
        cursor.execute(
            "UPDATE core_auditevent SET reason = 'rewritten' WHERE id = %s", [events[2].pk]
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    response = login(auditor).get("/audit/chain/")
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Hash chain BROKEN at event #{events[2].seq}: content does not match its hash" in body
    assert "Hash chain verified" not in body


@pytest.mark.parametrize("url", ["/audit/", "/audit/chain/", "/audit/export.csv"])
@pytest.mark.parametrize("role", ["physician", "nurse", "pharmacist"])
def test_ward_staff_get_403(login, ward_a, url, role):
    _note(None, "marker-secret")
    response = login(make_user(role, ward_a)).get(url)
    assert response.status_code == 403
    assert b"marker-secret" not in b"".join(
        response.streaming_content if response.streaming else [response.content]
    )


@pytest.mark.parametrize("url", ["/audit/", "/audit/chain/", "/audit/export.csv"])
def test_anonymous_users_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_row_shows_each_column_escaped_in_the_ward_time_zone(login, auditor, physician, settings):
    settings.TIME_ZONE = "America/New_York"  # a DST zone: 2026-07-01 12:30 UTC is 08:30 EDT
    token = context.set_current(
        context.RequestContext(request_id="0123456789abcdef", client_ip="192.0.2.7")
    )
    with time_machine.travel(datetime(2026, 7, 1, 12, 30, 5, tzinfo=ZoneInfo("UTC")), tick=False):
        event = audit.record(
            "note",
            actor=physician,
            object_type="test.Thing",
            object_id="42",
            old={"name": "<b>old</b>"},
            new={"name": "<script>alert(1)</script>"},
            reason="<i>why</i>",
        )
    context.reset(token)
    body = login(auditor).get("/audit/").content.decode()
    row = body[body.index(f"<tr><td>{event.seq}</td>") :].split("</tr>")[0]
    assert "<td>2026-07-01 08:30:05</td>" in row
    assert f"<td>{physician.username}</td><td>Physician</td><td>note</td>" in row
    assert "<td>test.Thing:42</td>" in row
    assert "<code>{&#x27;name&#x27;: &#x27;&lt;b&gt;old&lt;/b&gt;&#x27;}</code>" in row
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row and "<script>alert" not in body
    assert "<td>&lt;i&gt;why&lt;/i&gt;</td>" in row
    assert "<small>012345678… 192.0.2.7</small>" in row
    assert f"<td><small>{app_version()}</small></td>" in row


def test_a_system_event_shows_a_dash_for_who_and_no_values(login, auditor):
    event = audit.record("reminder_sent", object_type="core.Reminder")
    body = login(auditor).get("/audit/").content.decode()
    row = body[body.index(f"<tr><td>{event.seq}</td>") :].split("</tr>")[0]
    assert "<td>—</td><td></td><td>reminder_sent</td>" in row
    assert "<td>core.Reminder</td>" in row
    assert "<td><code></code></td><td><code></code></td>" in row
