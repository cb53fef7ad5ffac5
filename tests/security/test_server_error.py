"""An unhandled exception gives the friendly 500 page: no traceback, no source paths, no
exception text, whoever is signed in."""

import pytest
from django.test import Client

from tests.security.urls_error import SECRET_DETAIL

pytestmark = pytest.mark.django_db

LEAKS = ("Traceback", "traceback", SECRET_DETAIL, "RuntimeError", ".py", "/work/", "site-packages")


@pytest.fixture
def exploding(settings):
    settings.ROOT_URLCONF = "tests.security.urls_error"
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


@pytest.mark.parametrize("signed_in", [False, True])
def test_it_shows_the_friendly_page_without_a_stack_trace(exploding, nurse, signed_in):
    client = Client(raise_request_exception=False)
    if signed_in:
        client.force_login(nurse)
    response = client.get("/__explode__/", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong" in text
    assert "系统出错" in text
    for leak in LEAKS:
        assert leak not in text, leak


def test_a_post_that_fails_does_not_leak_either(exploding, nurse):
    client = Client(raise_request_exception=False, enforce_csrf_checks=False)
    client.force_login(nurse)
    response = client.post("/__explode__/", {"password": "hunter2"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 500
    text = response.content.decode()
    assert "hunter2" not in text
    for leak in LEAKS:
        assert leak not in text, leak
