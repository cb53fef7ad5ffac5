"""403, 404 and 500 show the friendly pages, never a traceback or debug page."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

DEBUG_MARKERS = ("Traceback", "technical_500", "Django tried these URL patterns", "Request Method")


def _assert_no_debug_output(body):
    for marker in DEBUG_MARKERS:
        assert marker not in body


@override_settings(DEBUG=False)
def test_403_shows_the_friendly_page(login, pharmacist):
    response = login(pharmacist).get("/patients/new/")
    body = response.content.decode()
    assert response.status_code == 403
    assert "Your role does not allow this action. The attempt has been recorded." in body
    assert 'href="/"' in body
    _assert_no_debug_output(body)


@override_settings(DEBUG=False)
def test_a_csrf_failure_shows_the_friendly_403(nurse, ward_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = client.post("/patients/new/", {"name": "x"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "The form had expired or was not sent from this site." in body
    _assert_no_debug_output(body)


@override_settings(DEBUG=False)
def test_404_shows_the_friendly_page(login, nurse):
    response = login(nurse).get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here, or it belongs to another ward." in body
    _assert_no_debug_output(body)


@override_settings(DEBUG=False)
def test_another_wards_patient_is_a_friendly_404(login, nurse, patient_b):
    response = login(nurse).get(f"/patients/{patient_b.pk}/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in body
    assert patient_b.name not in body


@override_settings(DEBUG=False, ROOT_URLCONF="tests.core.error_urls")
def test_500_shows_the_friendly_page_without_a_traceback(login, nurse):
    client = login(nurse)
    client.raise_request_exception = False
    response = client.get("/test-boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong · 系统出错" in body
    assert "please go back and try again" in body
    assert "kaboom" not in body and "RuntimeError" not in body
    _assert_no_debug_output(body)
