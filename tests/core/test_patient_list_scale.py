"""The patient list at scale (issue 23): a ward of 50,000 is counted only as far as the
pages near the one shown; the pager says "of more than" beyond, and stays exact below."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import views
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def test_a_long_list_is_counted_only_near_the_page_shown(login, nurse, ward_a, monkeypatch):
    monkeypatch.setattr(views, "PATIENT_PAGES_COUNTED", 1)  # 20 in use: a 51st page here
    for i in range(51):
        make_patient(ward_a, hospital_number=f"S{i:05d}")
    client = login(nurse)
    with CaptureQueriesContext(connection) as ctx:
        first = client.get("/patients/").content.decode()
    assert "Page 1 of more than 2" in first and 'href="?page=2"' in first
    assert "S00000" in first and "S00025" not in first
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 51" in counts[0], counts
    # Near the end the count reaches it: exact again, and the last page has no "Next".
    second = client.get("/patients/?page=2").content.decode()
    assert "Page 2 of 3" in second and 'href="?page=3"' in second
    last = client.get("/patients/?page=3").content.decode()
    assert "Page 3 of 3" in last and "S00050" in last and "?page=4" not in last
