"""Issue 3's Django contract: `manage.py screen`, POST /api/screening/evaluate (session or
bearer token), field errors, and ULNs filled from the reference ranges."""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import AuditEvent, ReferenceRange
from screening.models import ApiToken, Screening
from tests.factories import make_user

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "screening"
URL = "/api/screening/evaluate"


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def expected(name):
    return json.loads((EXAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))


def post_json(client, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


# --- manage.py screen -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["sle", "dcssc", "aav", "iim", "ss"])
def test_it_prints_the_engines_evaluation_as_json(name):
    out = StringIO()
    call_command("screen", str(EXAMPLES / f"{name}.json"), "--format", "json", stdout=out)
    assert json.loads(out.getvalue()) == expected(name)


@pytest.mark.django_db
def test_it_prints_one_line_per_criterion_as_text():
    out = StringIO()
    call_command("screen", str(EXAMPLES / "sle.json"), "--format", "text", stdout=out)
    text = out.getvalue()
    assert "A-GEN-1" in text and "A-ORG-6" in text
    assert "Overall: ELIGIBLE" in text


@pytest.mark.django_db
def test_it_exits_non_zero_with_the_field_errors(tmp_path):
    doc = example("sle")
    doc["labs"]["inr"]["unit"] = "furlongs"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("screen", str(path), stderr=err)
    assert caught.value.returncode == 2
    assert "labs.inr.unit" in err.getvalue()


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(CommandError) as caught:
        call_command("screen", str(path))
    assert caught.value.returncode == 2


@pytest.mark.django_db
def test_it_fills_a_missing_uln_from_the_reference_range_of_the_lab_and_sex():
    doc = example("sle")
    del doc["labs"]["creatinine"]["uln"]
    doc["labs"]["creatinine"]["value"] = 120  # > 1.5 × 60, ≤ 1.5 × 84
    doc["patient"]["weight_kg"] = None  # so only the ULN can decide A-ORG-4
    lab = doc["labs"]["creatinine"]["lab"]
    ReferenceRange.objects.create(lab=lab, analyte="creatinine", sex="M", unit="umol/L", upper=60)
    ReferenceRange.objects.create(lab=lab, analyte="creatinine", sex="F", unit="umol/L", upper=84)
    ReferenceRange.objects.create(lab=lab, analyte="creatinine", sex="", unit="umol/L", upper=70)
    out = StringIO()
    call_command("screen", "-", stdout=out, stdin=StringIO(json.dumps(doc)))
    org4 = next(c for c in json.loads(out.getvalue())["criteria"] if c["rule_id"] == "A-ORG-4")
    assert org4["status"] == "met"
    assert "84" in org4["reason"]


@pytest.mark.django_db
def test_it_falls_back_to_the_range_for_any_sex_and_converts_units():
    doc = example("sle")
    del doc["labs"]["total_bilirubin"]["uln"]
    doc["labs"]["total_bilirubin"]["value"] = 30  # ≤ 1.5 × 20.52 µmol/L
    lab = doc["labs"]["total_bilirubin"]["lab"]
    ReferenceRange.objects.create(lab=lab, analyte="bilirubin", sex="", unit="mg/dL", upper="1.2")
    out = StringIO()
    call_command("screen", "-", stdout=out, stdin=StringIO(json.dumps(doc)))
    org3 = next(c for c in json.loads(out.getvalue())["criteria"] if c["rule_id"] == "A-ORG-3")
    assert org3["status"] == "met"
    assert "20.52" in org3["reason"]


@pytest.mark.django_db
def test_without_a_reference_range_the_uln_stays_missing():
    doc = example("sle")
    del doc["labs"]["inr"]["uln"]
    out = StringIO()
    call_command("screen", "-", stdout=out, stdin=StringIO(json.dumps(doc)))
    result = json.loads(out.getvalue())
    assert result["overall"] == "incomplete"
    assert any(m["field"].startswith("labs.inr") for m in result["missing"])


# --- The HTTP API -----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_evaluates_for_a_signed_in_user(login, nurse):
    response = post_json(login(nurse), example("sle"))
    assert response.status_code == 200
    assert response.json() == expected("sle")


@pytest.mark.django_db
def test_it_evaluates_with_a_bearer_token(physician):
    out = StringIO()
    call_command("api_token_create", physician.username, stdout=out)
    token = out.getvalue().strip()
    assert ApiToken.objects.get().token_hash == ApiToken.hash(token)  # only the hash is kept
    assert token not in json.dumps(list(AuditEvent.objects.values("new_values")))
    response = post_json(Client(), example("aav"), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json() == expected("aav")


@pytest.mark.django_db
def test_a_revoked_or_wrong_token_is_refused(physician):
    out = StringIO()
    call_command("api_token_create", physician.username, stdout=out)
    token = out.getvalue().strip()
    call_command("api_token_create", physician.username, "--revoke-all", stdout=StringIO())
    for header in (f"Bearer {token}", "Bearer nope", "Basic abc"):
        response = post_json(Client(), example("sle"), HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_anonymous_is_401_and_a_pharmacist_is_403(login, pharmacist):
    assert post_json(Client(), example("sle")).status_code == 401
    assert post_json(login(pharmacist), example("sle")).status_code == 403


@pytest.mark.django_db
def test_a_pharmacist_cannot_get_a_token(pharmacist):
    with pytest.raises(CommandError):
        call_command("api_token_create", pharmacist.username, stdout=StringIO())


@pytest.mark.django_db
def test_the_session_keeps_its_csrf_check(nurse):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    assert post_json(client, example("sle")).status_code == 403


@pytest.mark.django_db
def test_invalid_input_is_400_with_field_errors(login, nurse):
    doc = example("sle")
    doc["labs"]["inr"]["value"] = -1
    doc["general"]["consent_signed"]["value"] = "maybe"
    response = post_json(login(nurse), doc)
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"labs.inr.value", "general.consent_signed.value"} <= fields
    assert all(set(e) == {"field", "message"} for e in response.json()["errors"])
    doc = example("sle")
    doc["labs"]["inr"]["unit"] = "furlongs"
    response = post_json(login(nurse), doc)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "labs.inr.unit"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"", b"[" * 5000, b'"text"', b"[]"])
def test_non_json_or_non_object_is_400(login, nurse, body):
    response = post_json(login(nurse), body)
    assert response.status_code == 400
    assert response.json()["errors"]


@pytest.mark.django_db
def test_get_is_405(login, nurse):
    assert login(nurse).get(URL).status_code == 405


# --- Never a 500 ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
BASE = example("sle")


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


PATHS = [p for p in _paths(BASE) if p]


@st.composite
def mutated_documents(draw):
    """The valid SLE example with a few values replaced by arbitrary JSON."""
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(PATHS))
        target = doc
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    return doc


@pytest.mark.django_db
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.one_of(json_values, mutated_documents()))
def test_any_json_is_200_or_400_never_500_and_nothing_is_saved(login, nurse, body):
    client = login(nurse)
    before = Screening.objects.count()
    response = post_json(client, json.dumps(body))
    assert response.status_code in (200, 400), response.content[:300]
    payload = response.json()
    if response.status_code == 400:
        assert payload["errors"] and all("field" in e and "message" in e for e in payload["errors"])
    else:
        assert payload["overall"] in ("eligible", "ineligible", "incomplete")
    assert Screening.objects.count() == before


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_200_or_400(login, nurse, raw):
    response = post_json(login(nurse), raw)
    assert response.status_code in (200, 400)


@pytest.mark.django_db
def test_a_token_user_who_is_deactivated_is_refused(ward_a):
    user = make_user("nurse", ward_a, username="leaver")
    out = StringIO()
    call_command("api_token_create", user.username, stdout=out)
    user.is_active = False
    user.save()
    response = post_json(
        Client(), example("sle"), HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}"
    )
    assert response.status_code == 401
