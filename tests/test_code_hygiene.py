"""Issue 23: markup lives in templates and the code uses Django's public API only.

Scans the app code (not tests, not bench) with Python's own parser, so a string that
merely mentions "<" in a comment or a docstring does not count, and a new offender is
named with its file and line.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_DIRS = ["config", "core", "screening", "infusion"]

# f-strings that start with "<" but are not HTML, each with why.
NOT_HTML = {
    ("core/numbers.py", "<refused number "): "the repr of a refused number, for logs",
    ("core/reminders/channels.py", "<reminder-"): "an e-mail Message-ID header",
}
# Markup made safe in one place: the output of an autoescaping Jinja2 template.
SAFE_MARKERS_ALLOWED = {"core/jinja.py"}
# Django's private query machinery (core/compiled.py used it until issue 23).
PRIVATE_ATTRIBUTES = {
    "_iterable_class",
    "_fields",
    "_known_related_objects",
    "_result_cache",
    "_prefetch_related_lookups",
    "_hints",
    "klass_info",
    "annotation_col_map",
}


def _sources():
    for top in APP_DIRS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            rel = str(path.relative_to(ROOT))
            yield rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)


SOURCES = list(_sources())


def _leading_text(node):
    first = node.values[0] if node.values else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return ""


def _called_name(node):
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_the_scan_reads_the_app_code():
    names = {rel for rel, _tree in SOURCES}
    assert {"core/jinja.py", "infusion/views.py", "screening/views.py"} <= names
    assert len(names) > 100


def test_no_html_is_built_in_python_strings():
    found = []
    for rel, tree in SOURCES:
        specs = {  # f"{x:<8}": a format spec, not text
            id(n.format_spec) for n in ast.walk(tree) if isinstance(n, ast.FormattedValue)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and id(node) not in specs:
                text = _leading_text(node).lstrip()
                if text.startswith("<") and not any(
                    rel == path and text.startswith(prefix) for path, prefix in NOT_HTML
                ):
                    found.append(f"{rel}:{node.lineno}: f{text[:30]!r}")
            elif (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Add | ast.Mod)
                and isinstance(node.left, ast.Constant)
                and isinstance(node.left.value, str)
                and node.left.value.lstrip().startswith("<")
            ):
                found.append(f"{rel}:{node.lineno}: {node.left.value[:30]!r} + …")
    assert not found, "HTML built in Python (move it to a template):\n" + "\n".join(found)


def test_nothing_built_in_python_is_marked_safe():
    found = []
    for rel, tree in SOURCES:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            literal = bool(node.args) and isinstance(node.args[0], ast.Constant)
            if name in {"mark_safe", "SafeString"} or (
                name == "Markup" and rel not in SAFE_MARKERS_ALLOWED
            ):
                found.append(f"{rel}:{node.lineno}: {name}(…)")
            elif name == "format_html" and not literal:
                found.append(f"{rel}:{node.lineno}: format_html with a built format string")
    assert not found, "markup marked safe outside a template:\n" + "\n".join(found)


def test_core_html_and_core_compiled_are_gone():
    assert not (ROOT / "core/html.py").exists()
    assert not (ROOT / "core/compiled.py").exists()


def test_no_private_django_names_or_query_internals():
    found = []
    for rel, tree in SOURCES:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django"):
                for alias in node.names:
                    if alias.name.startswith("_") or node.module.startswith(
                        ("django.db.models.sql", "django.db.models.query_utils")
                    ):
                        found.append(f"{rel}:{node.lineno}: from {node.module} import {alias.name}")
                if node.module == "django.db.models.query":
                    public = {"QuerySet", "Prefetch", "prefetch_related_objects"}
                    found += [
                        f"{rel}:{node.lineno}: from django.db.models.query import {a.name}"
                        for a in node.names
                        if a.name not in public
                    ]
            elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
                found.append(f"{rel}:{node.lineno}: .{node.attr}")
    assert not found, "Django internals in app code:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source, offender",
    [
        ('x = f"<td>{v}</td>"', "f'<td>"),
        ("x = '<b>' + v", "'<b>' + …"),
        ("from django.db.models.query import get_related_populators", "get_related"),
    ],
)
def test_the_scan_would_catch_an_offender(source, offender, monkeypatch):
    tree = ast.parse(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["SOURCES"]), "SOURCES", [("x.py", tree)])
    checks = [
        test_no_html_is_built_in_python_strings,
        test_no_private_django_names_or_query_internals,
    ]
    messages = []
    for check in checks:
        try:
            check()
        except AssertionError as error:
            messages.append(str(error))
    assert any(offender in m for m in messages), messages
