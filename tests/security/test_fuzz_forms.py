"""Hypothesis fuzzing of every form: any input gives a normal page or a 400 with
messages, never a 500, and an invalid submission saves nothing.

Each matrix_<app>.py may declare FORMS = {url name: (url kwargs, example(world))}. The
fuzzer starts from the valid example and replaces, drops or adds fields with arbitrary
text, numbers, dates and control characters, posting as a user allowed to submit
(SUBMITTERS; "anon" posts signed out). A submission is invalid when the answer is a 400,
shows form errors, is refused (409), or queues an error message (the redirecting action views); then no
row may have been added or removed and no audit event written, except the refusal audits
a module lists in AUDITED_REFUSALS (a wrong signature password is audited by design).

Every URL whose view takes POST has a FORMS entry or a reason in FORM_EXEMPT.

Issue 16: besides the random cases, every field of each example is posted with each
hostile class of tests/security/hostile.py (year-1/9999 times, exponents of ±999999999,
NUL and other control characters, a 1 MB string): each class once into all fields at
once, and the fields three at a time with different classes (the others valid, so the
value reaches the service). Every request answers within REQUEST_BUDGET_S, and
afterwards every page that shows the form's objects (patient, episode, chart, timeline,
queue, screening) still renders. PDFs are rendered by test_fuzz_json.py's one PDF test,
not per form (seconds each). The number of requests is printed at the end of the run.
"""

import importlib
import pkgutil
import time

import pytest
from django.apps import apps
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.security as security_pkg
from core.models import AuditEvent, SecurityEvent
from tests.security import hostile
from tests.security.matrix import entries_of
from tests.security.test_url_matrix import ENTRIES, url_methods
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


def _merged(attribute):
    merged = {}
    for info in pkgutil.iter_modules(security_pkg.__path__):
        if info.name.startswith("matrix_"):
            module = importlib.import_module(f"tests.security.{info.name}")
            merged.update(getattr(module, attribute, {}))
    return merged


FORMS = _forms()
FORM_EXEMPT = _merged("FORM_EXEMPT")
AUDITED_REFUSALS = _merged("AUDITED_REFUSALS")
UNAUDITED = {"set_language"}  # a display preference, not a record
ALWAYS_ALLOWED = {"permission_denied", "access_denied", "login", "csrf_failure"}
# An empty body is the plainest invalid input; these forms have no field to fill, so an
# empty body is their valid submission (tested by the example test below).
EMPTY_BODY_ACCEPTED = {
    "infusion:order_administer",
    "infusion:order_complete",
    "notification_acknowledge",
}
# The clinical rows a submission may write; the audit trail is checked on its own, and
# the security log (a refused anonymous sign-in writes there by design) is not clinical.
ROW_MODELS = [
    m
    for m in apps.get_models()
    if m._meta.app_label in ("core", "screening", "infusion")
    and m not in (AuditEvent, SecurityEvent)
]


def _row_counts():
    # One query for every table (a count per model was most of a fuzz case's time).
    tables = (connection.ops.quote_name(m._meta.db_table) for m in ROW_MODELS)
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)  # table names from the models, no input
        counts = cursor.fetchone()
    return {m._meta.label: n for m, n in zip(ROW_MODELS, counts, strict=True)}


def _post_views():
    """Url names whose view takes POST: from the views' decorators and the matrix."""
    names = {name for name, methods in url_methods().items() if "POST" in methods}
    names |= {
        name for name, value in ENTRIES.items() for e in entries_of(value) if e.method == "post"
    }
    return names


def test_every_view_taking_post_is_fuzzed_or_exempt_with_a_reason():
    post = _post_views()
    missing = sorted(post - set(FORMS) - set(FORM_EXEMPT))
    assert not missing, f"POST views with neither a FORMS entry nor a FORM_EXEMPT reason: {missing}"
    assert not set(FORMS) & set(FORM_EXEMPT), "a form is either fuzzed or exempt"
    stale = sorted((set(FORMS) | set(FORM_EXEMPT)) - post)
    assert not stale, f"FORMS / FORM_EXEMPT entries for views that take no POST: {stale}"
    assert all(reason.strip() for reason in FORM_EXEMPT.values())


def test_the_post_views_are_found_from_the_decorators():
    post = _post_views()
    # require_POST, require_http_methods, a class-based form view, an undecorated form view
    assert {"infusion:order_verify", "infusion:episode_edit", "login", "patient_edit"} <= post
    assert not {"infusion:chart", "patient_list", "screening:pdf"} & post


def _invalid(response, text):
    if response.status_code in (400, 409) or any(m in text for m in ERROR_MARKERS):
        return True
    return any(m.level >= messages.ERROR for m in get_messages(response.wsgi_request))


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
            *hostile.FORM_VALUES.values(),
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


ERROR_MARKERS = (
    'class="error"',
    'class="errors"',
    'class="msg error"',
    '"errors"',
    "errorlist",
)


def _client(world, module, name):
    submitter = getattr(module, "SUBMITTERS", SUBMITTER).get(name, "physician")
    client = Client()
    if submitter != "anon":
        client.force_login(world.users[submitter])
    return client


def _assert_nothing_saved(name, body, before_rows, before_seq):
    allowed = ALWAYS_ALLOWED | AUDITED_REFUSALS.get(name, set())
    saved = AuditEvent.objects.filter(seq__gt=before_seq).exclude(action__in=allowed)
    assert not saved.exists(), (name, body, list(saved.values("action", "object_type")))
    rows = _row_counts()
    changed = {k: (before_rows[k], rows[k]) for k in rows if rows[k] != before_rows[k]}
    assert not changed, (name, body, changed)


def _last_seq():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _hostile_bodies(example):
    """Each hostile class into every field at once (a 1 MB string into two fields at a
    time at most), then the fields three at a time, each with another class."""
    keys = sorted(example)
    classes = sorted(hostile.FORM_VALUES)
    bodies = []
    for cls in classes:
        value = hostile.FORM_VALUES[cls]
        chunks = (
            [keys[i : i + 2] for i in range(0, len(keys), 2)] if cls == "1 MB string" else [keys]
        )
        for chunk in chunks or [[]]:
            bodies.append((cls, {**example, **dict.fromkeys(chunk, value)}))
    # Then the fields three at a time, each with its own class (in turn), the others valid.
    for start in range(0, len(keys), 3):
        changed = {
            key: hostile.FORM_VALUES[classes[(start + j) % len(classes)]]
            for j, key in enumerate(keys[start : start + 3])
        }
        bodies.append(("mixed", {**example, **changed}))
    return bodies


def _post_and_check(client, url, name, body, htmx=False):
    before_seq, before_rows = _last_seq(), _row_counts()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    started = time.perf_counter()
    response = client.post(url, body, **headers)
    elapsed = time.perf_counter() - started
    hostile.count("form fields")
    shown = {k: v[:40] for k, v in body.items()}
    assert response.status_code < 500, (name, shown, response.status_code)
    assert elapsed < hostile.REQUEST_BUDGET_S, (name, shown, f"{elapsed:.2f} s")
    text = response.content.decode(errors="replace")
    if _invalid(response, text):
        _assert_nothing_saved(name, shown, before_rows, before_seq)


def _pages_showing(world):
    """(url, role) of every page that shows the world's objects as they are now."""
    from infusion.models import AdverseReaction, Episode, Order
    from screening.models import Screening

    patients, episodes, screenings = {world.patient.pk}, set(), set()
    for obj in list(world._cache.values()):
        if isinstance(obj, Episode):
            episodes.add(obj.pk)
        elif isinstance(obj, (Order, AdverseReaction)):
            episodes.add(obj.episode_id)
        elif isinstance(obj, Screening):
            screenings.add(obj.pk)
        if hasattr(obj, "patient_id"):
            patients.add(obj.patient_id)
        elif obj.__class__.__name__ == "Patient":
            patients.add(obj.pk)
    pages = [(reverse("patient_detail", kwargs={"pk": pk}), "physician") for pk in patients]
    for pk in episodes:
        for page in ("infusion:episode_detail", "infusion:chart", "infusion:timeline_svg"):
            pages.append((reverse(page, kwargs={"pk": pk}), "physician"))
    if episodes:
        pages.append((reverse("infusion:queue"), "pharmacist"))
    pages += [(reverse("screening:detail", kwargs={"pk": pk}), "physician") for pk in screenings]
    return pages


def _assert_pages_still_render(world, name):
    clients = {}
    for url, role in _pages_showing(world):
        if role not in clients:
            clients[role] = Client()  # the user as stored now (a password may have changed)
            clients[role].force_login(type(world.users[role]).objects.get(pk=world.users[role].pk))
        response = clients[role].get(url)
        hostile.count("pages rendered afterwards")
        assert response.status_code == 200, (name, url, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_fuzzed_submissions_never_fail_and_invalid_ones_save_nothing(name):
    module, (kwargs_spec, example_fn) = FORMS[name]
    world = World()
    url = reverse(name, kwargs={k: f(world) for k, f in kwargs_spec.items()})
    example = example_fn(world)

    # Every field with every hostile class (issue 16), deterministically.
    for _cls, body in _hostile_bodies(example):
        client = _client(world, module, name)  # fresh: a sign-in must not outlive its case
        _post_and_check(client, url, name, {k: str(v) for k, v in body.items()})

    @settings(
        max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(body=_mutations(example))
    def check(body):
        body = {k: str(v) for k, v in body.items()}
        client = _client(world, module, name)  # fresh: a sign-in must not outlive its example
        for htmx in (False, True):
            _post_and_check(client, url, name, body, htmx=htmx)

    check()
    _assert_pages_still_render(world, name)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_an_empty_submission_is_refused_and_saves_nothing(name):
    module, (kwargs_spec, _example_fn) = FORMS[name]
    world = World()
    client = _client(world, module, name)
    url = reverse(name, kwargs={k: f(world) for k, f in kwargs_spec.items()})
    before_seq, before_rows = _last_seq(), _row_counts()
    response = client.post(url, {})
    assert response.status_code < 500, (name, response.status_code)
    text = response.content.decode(errors="replace")
    if name in EMPTY_BODY_ACCEPTED:
        return
    # Refused with a message the user can read, and nothing written.
    assert _invalid(response, text), (name, response.status_code, text[:1500])
    _assert_nothing_saved(name, {}, before_rows, before_seq)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_the_example_the_fuzzer_starts_from_is_accepted(name):
    # Otherwise the fuzzer would only ever explore the refusal path.
    module, (kwargs_spec, example_fn) = FORMS[name]
    world = World()
    client = _client(world, module, name)
    url = reverse(name, kwargs={k: f(world) for k, f in kwargs_spec.items()})
    before_seq = _last_seq()
    response = client.post(url, example_fn(world))
    text = response.content.decode(errors="replace")
    assert response.status_code in (200, 302, 303), (name, response.status_code)
    assert not _invalid(response, text), (name, text[:2000])
    if name not in UNAUDITED:
        assert AuditEvent.objects.filter(seq__gt=before_seq).exists(), f"{name}: no audit row"
