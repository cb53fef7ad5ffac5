"""Hypothesis fuzzing of every form: any input gives a normal page or a 400 with
messages, never a 500, and an invalid submission saves nothing.

Each matrix_<app>.py may declare FORMS = {url name: (url kwargs, example(world))}. The
fuzzer starts from the valid example and replaces, drops or adds fields with arbitrary
text, numbers, dates and control characters, posting as a user allowed to submit.
"""

import importlib
import pkgutil

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.security as security_pkg
from core.models import AuditEvent
from tests.security.world import World

SUBMITTER = {"default": "physician"}


def _forms():
    merged = {}
    for info in pkgutil.iter_modules(security_pkg.__path__):
        if info.name.startswith("matrix_"):
            module = importlib.import_module(f"tests.security.{info.name}")
            for name, spec in getattr(module, "FORMS", {}).items():
                merged[name] = (module, spec)
    return merged


FORMS = _forms()

nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e309",
            "NaN",
            "9" * 40,
            "2026-02-30",
            "2026-13-01T25:61",
            "<script>alert(1)</script>",
            "'; DROP TABLE core_patient; --",
            "\x00",
            "null",
            "[]",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


def _mutations(example):
    keys = sorted(example)
    return st.fixed_dictionaries(
        {},
        optional={k: nasty_text for k in keys} | {"unexpected_field": nasty_text},
    ).flatmap(
        lambda changes: st.sets(st.sampled_from(keys or ["x"]), max_size=2).map(
            lambda dropped: {**{k: v for k, v in example.items() if k not in dropped}, **changes}
        )
    )


ERROR_MARKERS = ('class="error"', 'class="errors"', '"errors"', "errorlist")


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_fuzzed_submissions_never_fail_and_invalid_ones_save_nothing(name):
    module, (kwargs_spec, example_fn) = FORMS[name]
    world = World()
    submitter = getattr(module, "SUBMITTERS", SUBMITTER).get(name, "physician")
    client = Client()
    client.force_login(world.users[submitter])
    url = reverse(name, kwargs={k: f(world) for k, f in kwargs_spec.items()})
    example = example_fn(world)

    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(body=_mutations(example))
    def check(body):
        before = AuditEvent.objects.count()
        body = {k: str(v) for k, v in body.items()}
        for htmx in (False, True):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.post(url, body, **headers)
            assert response.status_code < 500, (name, body, response.status_code)
            text = response.content.decode(errors="replace")
            if response.status_code == 400 or any(m in text for m in ERROR_MARKERS):
                saved = AuditEvent.objects.filter(seq__gt=before).exclude(
                    action__in=["permission_denied", "access_denied", "login", "csrf_failure"]
                )
                assert not saved.exists(), (name, body, list(saved.values("action", "object_type")))
            before = AuditEvent.objects.count()

    check()
