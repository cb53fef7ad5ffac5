"""Issue 5's Django contract: POST /api/infusion/plan and manage.py infusion_plan."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import AuditEvent
from infusion.models import Episode, Order
from tests.infusion.engine import EXAMPLES_DIR, example_doc, repo_root

URL = "/api/infusion/plan"
EXAMPLE_INPUT = EXAMPLES_DIR / "lupus-nephritis.input.json"
EXPECTED_JSON = json.loads((EXAMPLES_DIR / "lupus-nephritis.expected.json").read_text())
EXPECTED_TXT = (EXAMPLES_DIR / "lupus-nephritis.expected.txt").read_text()


def post(client, body, content_type="application/json"):
    return client.post(URL, data=body, content_type=content_type)


# --- API ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_returns_the_plan_as_the_command_does(login, nurse):
    response = post(login(nurse), EXAMPLE_INPUT.read_bytes())
    assert response.status_code == 200
    assert response.json() == EXPECTED_JSON


@pytest.mark.django_db
def test_invalid_input_is_400_with_field_errors(login, nurse):
    doc = example_doc()
    doc["patient"]["weight"]["kg"] = "-3"
    doc["order"]["planned_start"] = "2024-06-12T09:30:00"  # naive
    del doc["ward_time_zone"]
    response = post(login(nurse), json.dumps(doc))
    assert response.status_code == 400
    errors = response.json()["errors"]
    fields = {e["field"] for e in errors}
    assert {"ward_time_zone", "patient.weight.kg", "order.planned_start"} <= fields
    assert all(set(e) == {"field", "message"} and e["message"] for e in errors)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{", b"\xff\xfe\x00", b"[" * 100_000 + b"]" * 100_000, b"NaN", b'"x"'],
)
def test_a_body_that_is_not_a_plan_document_is_400(login, nurse, body):
    response = post(login(nurse), body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == ""


@pytest.mark.django_db
def test_a_form_encoded_body_is_400_not_500(login, nurse):
    client = login(nurse)
    assert client.post(URL, {"a": "b"}).status_code == 400


@pytest.mark.django_db
def test_anonymous_is_401_json():
    response = post(Client(), EXAMPLE_INPUT.read_bytes())
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Session")
    assert response.json()["errors"][0]["message"].startswith("Authentication required")


@pytest.mark.django_db
def test_get_is_405(login, nurse):
    assert login(nurse).get(URL).status_code == 405


@pytest.mark.django_db
def test_a_signed_in_session_must_send_the_csrf_token(nurse):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = post(client, EXAMPLE_INPUT.read_bytes())
    assert response.status_code == 403 and "CSRF" in response.json()["errors"][0]["message"]
    client.get("/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        URL,
        data=EXAMPLE_INPUT.read_bytes(),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
EXAMPLE = example_doc()


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))


PATHS = [p for p in _paths(EXAMPLE) if p]


@st.composite
def mutated_documents(draw):
    """The worked example with a few values replaced by any JSON (or removed)."""
    doc = json.loads(json.dumps(EXAMPLE))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(PATHS))
        node = doc
        for key in path[:-1]:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            if isinstance(node, dict):
                if draw(st.booleans()):
                    node[path[-1]] = draw(json_values)
                else:
                    node.pop(path[-1], None)
    return doc


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=st.one_of(json_values, mutated_documents()))
def test_any_json_gives_200_or_400_and_saves_nothing(login, nurse, doc):
    client = login(nurse)
    before = (Episode.objects.count(), Order.objects.count(), AuditEvent.objects.count())
    response = post(client, json.dumps(doc))
    assert response.status_code in (200, 400), response.content[:500]
    body = response.json()
    if response.status_code == 400:
        assert body["errors"] and all({"field", "message"} <= set(e) for e in body["errors"])
    else:
        assert body["schema_version"] == "1" and "status" in body
    assert (Episode.objects.count(), Order.objects.count(), AuditEvent.objects.count()) == before


# --- Command -----------------------------------------------------------------------------


def test_the_command_prints_the_text_plan():
    out = StringIO()
    call_command("infusion_plan", str(EXAMPLE_INPUT), stdout=out)
    assert out.getvalue() == EXPECTED_TXT


def test_the_command_prints_the_same_json_as_the_api():
    out = StringIO()
    call_command("infusion_plan", str(EXAMPLE_INPUT), "--format", "json", stdout=out)
    assert json.loads(out.getvalue()) == EXPECTED_JSON


def test_the_command_refuses_invalid_input_with_the_field_errors(tmp_path):
    doc = example_doc()
    doc["product"]["suspension_volume_ml"] = "abc"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CommandError) as exc:
        call_command("infusion_plan", str(path))
    assert "product.suspension_volume_ml" in str(exc.value)


def test_the_command_exits_non_zero_on_invalid_input(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"patient": {}}')
    result = subprocess.run(
        [sys.executable, "manage.py", "infusion_plan", str(path)],
        cwd=repo_root(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "ward_time_zone: is required" in result.stderr
    assert "patient.date_of_birth: is required" in result.stderr


def test_the_command_reads_stdin_and_reports_a_missing_file():
    result = subprocess.run(
        [sys.executable, "manage.py", "infusion_plan", "-", "--format", "json"],
        cwd=repo_root(),
        input=EXAMPLE_INPUT.read_text(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and json.loads(result.stdout) == EXPECTED_JSON
    with pytest.raises(CommandError, match="cannot read"):
        call_command("infusion_plan", "/nonexistent/plan.json")
