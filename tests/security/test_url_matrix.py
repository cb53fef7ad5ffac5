"""Every URL pattern × every role (and anonymous, and a user of another ward).

The matrix lives in tests/security/matrix_<app>.py. A URL pattern without an entry fails
`test_every_url_pattern_has_a_matrix_entry`, so a new page cannot ship without deciding
who may reach it; an unnamed pattern fails too (it could not have an entry). A view that
answers both GET and POST (a form page) has an entry for each method.
"""

import importlib
import pkgutil

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests.security as security_pkg
from tests.security.matrix import entries_of, view_methods
from tests.security.world import ROLES, World

IGNORED_NAMESPACES = {"admin"}  # Django's own admin site: staff-only by Django itself
# Django's own unnamed views, should a URL conf add them (static files in DEBUG, i18n).
IGNORED_VIEW_MODULES = ("django.views.static", "django.views.i18n", "django.contrib.staticfiles")


def _entries():
    merged = {}
    for info in pkgutil.iter_modules(security_pkg.__path__):
        if info.name.startswith("matrix_"):
            module = importlib.import_module(f"tests.security.{info.name}")
            merged.update(module.ENTRIES)
    return merged


ENTRIES = _entries()
CASES = [(name, entry) for name, value in ENTRIES.items() for entry in entries_of(value)]


def url_patterns(resolver=None, namespace=None, prefix=""):
    """(name or None, route, callback) of every project URL pattern, admin excluded."""
    resolver = resolver or get_resolver()
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            ns = item.namespace or namespace
            if ns in IGNORED_NAMESPACES:
                continue
            full = f"{namespace}:{item.namespace}" if namespace and item.namespace else ns
            yield from url_patterns(item, full, prefix + str(item.pattern))
        elif isinstance(item, URLPattern):
            if getattr(item.callback, "__module__", "").startswith(IGNORED_VIEW_MODULES):
                continue
            name = (f"{namespace}:{item.name}" if namespace else item.name) if item.name else None
            yield name, prefix + str(item.pattern), item.callback


def _url_names():
    return {name for name, _route, _callback in url_patterns() if name}


def url_methods():
    """url name -> the HTTP methods its view answers."""
    return {name: view_methods(callback) for name, _route, callback in url_patterns() if name}


def test_every_url_pattern_has_a_matrix_entry():
    missing = sorted(_url_names() - set(ENTRIES))
    assert not missing, f"URL patterns without a security-matrix entry: {missing}"


def test_every_project_url_pattern_is_named():
    unnamed = [route for name, route, _callback in url_patterns() if not name]
    assert not unnamed, f"unnamed URL patterns cannot have a security-matrix entry: {unnamed}"


def test_an_unnamed_pattern_is_caught(settings):
    from django.urls import clear_url_caches

    settings.ROOT_URLCONF = "tests.security.urls_unnamed"
    clear_url_caches()
    try:
        routes = [route for name, route, _callback in url_patterns() if not name]
    finally:
        clear_url_caches()
    assert routes == ["hidden/"]


def test_every_matrix_entry_names_a_real_url_and_every_role():
    names = _url_names()
    for name, entry in CASES:
        assert name in names, f"stale matrix entry {name}"
        assert set(entry.expect) == set(ROLES), (
            f"{name} must state every role: {sorted(entry.expect)}"
        )


def test_each_method_of_a_url_has_at_most_one_entry_and_the_view_answers_it():
    methods = url_methods()
    for name, value in ENTRIES.items():
        declared = [e.method.upper() for e in entries_of(value)]
        assert len(declared) == len(set(declared)), f"{name}: one entry per method: {declared}"
        stray = set(declared) - methods.get(name, set())
        assert not stray, f"{name}: the view does not answer {sorted(stray)}"


def test_views_answering_get_and_post_have_an_entry_for_each():
    missing = []
    for name, methods in sorted(url_methods().items()):
        declared = {e.method.upper() for e in entries_of(ENTRIES.get(name, ()))}
        missing += [f"{name} {m}" for m in sorted({"GET", "POST"} & methods - declared)]
    assert not missing, f"methods a view answers without a matrix entry: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "entry"), CASES, ids=[f"{name}-{entry.method}" for name, entry in CASES]
)
def test_each_role_gets_the_expected_status(name, entry):
    world = World()
    url = reverse(name, kwargs={k: f(world) for k, f in entry.kwargs.items()}) + entry.query
    for role in ROLES:
        client = Client()
        if role != "anon":
            client.force_login(world.users[role])
        if entry.method == "get":
            response = client.get(url)
        else:
            response = getattr(client, entry.method)(url, entry.data or {})
        assert response.status_code == entry.expect[role], (
            f"{role} {entry.method.upper()} {url}: got {response.status_code}, expected {entry.expect[role]}"
        )
        if response.status_code == 500:
            pytest.fail("500")
