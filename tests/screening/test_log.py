"""The screening log: filters, CSV export, the flow diagram and a constant query count."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening import services
from screening.demo import iim_facts
from tests.factories import PASSWORD, make_patient
from tests.screening.conftest import TODAY, complete, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def ineligible(user, patient):
    screening = start(user, patient, "IIM")
    screening, _saved = services.screening_save_draft(
        actor=user, screening=screening, facts=iim_facts(screening.facts, TODAY, "F")
    )
    assert screening.outcome == "ineligible"
    return screening


@pytest.fixture
def world(labs, physician, nurse, physician_b, ward_b):
    """Ward A: a signed eligible SLE, an ineligible IIM, an incomplete SLE. Ward B: one."""
    signed = complete(start(physician, labs), physician)
    services.screening_sign(actor=physician, screening=signed, password=PASSWORD)
    failing = ineligible(nurse, make_patient(labs.ward, name="Iris Myo"))
    draft = start(nurse, make_patient(labs.ward, name="Dora Draft"))
    other = start(physician_b, make_patient(ward_b, name="Bea Otherward"))
    return {"signed": signed, "ineligible": failing, "draft": draft, "other": other}


def rows(html):
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return re.findall(r'href="/screening/(\d+)/"', body)


def test_it_lists_the_wards_screenings_with_outcome_and_failing_rules(login, nurse, world):
    html = login(nurse).get("/screening/").content.decode()
    listed = rows(html)
    assert sorted(listed) == sorted(str(world[k].pk) for k in ("signed", "ineligible", "draft"))
    assert "Iris Myo" in html and "A-IIM-2" in html and "Bea Otherward" not in html


def test_the_administrator_sees_every_ward_and_can_filter_by_ward(login, auditor, world, ward_b):
    client = login(auditor)
    assert len(rows(client.get("/screening/").content.decode())) == 4
    only_b = rows(client.get(f"/screening/?ward={ward_b.pk}").content.decode())
    assert only_b == [str(world["other"].pk)]


def test_filters_by_indication_outcome_status_and_dates(login, nurse, world):
    client = login(nurse)
    assert rows(client.get("/screening/?indication=IIM").content.decode()) == [
        str(world["ineligible"].pk)
    ]
    assert rows(client.get("/screening/?outcome=eligible").content.decode()) == [
        str(world["signed"].pk)
    ]
    assert rows(client.get("/screening/?status=signed").content.decode()) == [
        str(world["signed"].pk)
    ]
    later = (TODAY + timedelta(days=1)).isoformat()
    assert rows(client.get(f"/screening/?date_from={later}").content.decode()) == []
    assert len(rows(client.get(f"/screening/?date_to={TODAY.isoformat()}").content.decode())) == 3
    bad = client.get(f"/screening/?date_from={later}&date_to={TODAY.isoformat()}")
    assert bad.status_code == 200 and rows(bad.content.decode()) == []


def test_the_htmx_filter_returns_the_log_body_only(login, nurse, world):
    response = login(nurse).get(
        "/screening/?indication=SLE", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="screening-log"
    )
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="screening-log">')


def test_csv_export_has_the_filtered_rows(login, nurse, world):
    response = login(nurse).get("/screening/export.csv?indication=IIM")
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0][:4] == ["screening_id", "version", "status", "hospital_number"]
    assert len(table) == 2
    row = dict(zip(table[0], table[1], strict=True))
    assert row["indication"] == "IIM" and row["outcome"] == "ineligible"
    assert row["failing_rules"] == "A-IIM-2" and row["patient"] == "Iris Myo"


def test_csv_export_defuses_spreadsheet_formulas(login, nurse, labs):
    start(nurse, make_patient(labs.ward, name="=HYPERLINK(1)"))
    body = b"".join(login(nurse).get("/screening/export.csv").streaming_content).decode()
    assert "'=HYPERLINK(1)" in body


def box(svg, cls):
    match = re.search(rf'<g class="box {cls}">(.*?)</g>', svg, flags=re.S)
    return re.findall(r">([^<]+)</text>", match.group(1))


def test_the_flow_diagram_counts_each_step(login, nurse, world):
    html = login(nurse).get("/screening/").content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<script" not in svg
    assert box(svg, "screened") == ["Screened", "n = 3 screenings of 3 patients"]
    columns = re.findall(
        r'<g class="box indication">.*?</text><text[^>]*>([^<]+)</text>', svg, flags=re.S
    )
    assert columns == ["n = 2", "n = 0", "n = 0", "n = 1", "n = 0"]  # SLE, dcSSc, AAV, IIM, SS
    eligible = re.findall(
        r'<g class="box eligible">.*?<text[^>]*>[^<]+</text><text[^>]*>([^<]+)</text>',
        svg,
        flags=re.S,
    )
    incomplete = re.findall(
        r'<g class="box incomplete">.*?<text[^>]*>[^<]+</text><text[^>]*>([^<]+)</text>',
        svg,
        flags=re.S,
    )
    assert eligible[0] == "n = 1" and incomplete[0] == "n = 1"  # SLE
    iim_ineligible = re.findall(r'<g class="box ineligible">(.*?)</g>', svg, flags=re.S)[3]
    assert "n = 1" in iim_ineligible and "A-IIM-2 × 1" in iim_ineligible
    signed = re.findall(r'<g class="box signed">(.*?)</g>', svg, flags=re.S)[0]
    assert "n = 1" in signed and "1 eligible" in signed and "0 ineligible" in signed


def _log_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/screening/").status_code == 200
    return len(queries)


def test_the_log_query_count_does_not_grow_with_the_rows(login, nurse, labs):
    client = login(nurse)
    patients = [make_patient(labs.ward) for _ in range(30)]
    for p in patients[:3]:
        start(nurse, p)
    _log_queries(client)  # warm the session
    few = _log_queries(client)
    for p in patients[3:]:
        start(nurse, p)
    many = _log_queries(client)
    assert many == few, (few, many)


def test_a_patient_screened_for_two_indications_is_one_patient_in_the_flow(login, nurse, labs):
    start(nurse, labs)  # SLE
    ineligible(nurse, labs)  # IIM, the same patient
    html = login(nurse).get("/screening/").content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert box(svg, "screened") == ["Screened", "n = 2 screenings of 1 patient"]
