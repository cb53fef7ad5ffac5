"""Every URL pattern × every role (and anonymous, and a user of another ward).

The matrix lives in tests/security/matrix_<app>.py. A URL pattern without an entry fails
`test_every_url_pattern_has_a_matrix_entry`, so a new page cannot ship without deciding
who may reach it.
"""

import importlib
import pkgutil

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests.security as security_pkg
from tests.security.world import ROLES, World

IGNORED_NAMESPACES = {"admin"}  # Django's own admin site: staff-only by Django itself


def _entries():
    merged = {}
    for info in pkgutil.iter_modules(security_pkg.__path__):
        if info.name.startswith("matrix_"):
            module = importlib.import_module(f"tests.security.{info.name}")
            merged.update(module.ENTRIES)
    return merged


ENTRIES = _entries()


def _url_names(resolver=None, namespace=None):
    resolver = resolver or get_resolver()
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            ns = item.namespace or namespace
            if ns in IGNORED_NAMESPACES:
                continue
            full = f"{namespace}:{item.namespace}" if namespace and item.namespace else ns
            yield from _url_names(item, full)
        elif isinstance(item, URLPattern) and item.name:
            yield f"{namespace}:{item.name}" if namespace else item.name


def test_every_url_pattern_has_a_matrix_entry():
    missing = sorted(set(_url_names()) - set(ENTRIES))
    assert not missing, f"URL patterns without a security-matrix entry: {missing}"


def test_every_matrix_entry_names_a_real_url_and_every_role():
    names = set(_url_names())
    for name, entry in ENTRIES.items():
        assert name in names, f"stale matrix entry {name}"
        assert set(entry.expect) == set(ROLES), (
            f"{name} must state every role: {sorted(entry.expect)}"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_each_role_gets_the_expected_status(name):
    world = World()
    entry = ENTRIES[name]
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
