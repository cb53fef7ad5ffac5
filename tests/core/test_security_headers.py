"""Issue 16, item 7: every class of response carries a Content-Security-Policy, no-store,
Referrer-Policy same-origin and a Permissions-Policy; pages allow no inline script (nor
inline styles) and the templates hold none."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from core.reminders import services as reminder_services
from core.security_headers import DATA_POLICY, PAGE_POLICY, VIEWER_POLICY
from tests.factories import add_lab, add_weight
from tests.infusion.conftest import open_episode

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


def assert_headers(response, policy):
    assert response["Content-Security-Policy"] == policy
    assert "no-store" in response["Cache-Control"].replace(" ", "").split(",")
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_page_policy_allows_scripts_and_styles_from_this_site_only():
    directives = dict(d.split(" ", 1) for d in PAGE_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in PAGE_POLICY and "nonce" not in PAGE_POLICY


def test_a_patient_page_carries_the_page_policy_and_no_store(login, nurse, patient):
    assert_headers(login(nurse).get(f"/patients/{patient.pk}/"), PAGE_POLICY)


def test_an_htmx_fragment_carries_the_page_policy_and_no_store(login, nurse, patient):
    response = login(nurse).get(
        "/patients/?q=Alice", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="patient-table"
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert_headers(response, PAGE_POLICY)


def test_the_sign_in_page_and_error_pages_carry_the_page_policy():
    assert_headers(Client().get("/login/"), PAGE_POLICY)
    assert_headers(Client().get("/no-such-page/"), PAGE_POLICY)


def test_a_csv_export_carries_the_data_policy_and_no_store(login, auditor):
    response = login(auditor).get("/audit/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert_headers(response, DATA_POLICY)


def test_both_apis_carry_the_data_policy_and_no_store(login, nurse):
    client = login(nurse)
    for url in ("/api/screening/evaluate", "/api/infusion/plan"):
        response = client.post(url, data="{}", content_type="application/json")
        assert response["Content-Type"] == "application/json"
        assert_headers(response, DATA_POLICY)


def test_the_calendar_feed_carries_the_data_policy_and_no_store(nurse):
    token = reminder_services.calendar_token_regenerate(user=nurse)
    response = Client().get(f"/calendar/{token.token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert_headers(response, DATA_POLICY)


def test_a_pdf_carries_the_viewer_policy_and_no_store(login, physician, nurse, patient):
    now = timezone.now()
    add_weight(patient, nurse, "60", when=now - timedelta(days=2))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=now - timedelta(days=1))
    episode = open_episode(patient, physician)
    response = login(physician).get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # Chrome shows a PDF in a viewer page of its own that a page policy would block.
    assert_headers(response, VIEWER_POLICY)


def test_the_admin_allows_inline_styles_only(login, auditor):
    response = login(auditor).get("/django-admin/")
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert "no-store" in response["Cache-Control"]


def test_static_files_keep_their_cache():
    response = Client().get("/static/js/app.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style[\s>]", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on handler (needs eval)"),
]


def test_no_page_template_holds_inline_script_handlers_or_styles():
    offenders = []
    for app in ("templates", "core", "screening", "infusion"):
        for path in (REPO / app).rglob("*.html"):
            if "/pdf/" in path.as_posix():
                continue  # rendered by WeasyPrint into a PDF, never by a browser
            source = path.read_text(encoding="utf-8")
            offenders += [
                f"{path.relative_to(REPO)}: {what}" for rx, what in INLINE if rx.search(source)
            ]
    assert offenders == []
