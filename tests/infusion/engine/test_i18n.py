"""Every English message is a gettext_noop literal, so makemessages extracts it, and
every reason is its template rendered with its params, so Django can translate it."""

import ast

from infusion.engine import build_plan, gettext_noop, parse_plan_input

from . import example_doc, repo_root

ENGINE_DIR = repo_root() / "infusion" / "engine"


def marked_literals() -> set[str]:
    found = set()
    for path in ENGINE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "gettext_noop"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def full_plan():
    doc = example_doc()
    doc["patient"]["involvement"]["cns"] = True
    doc["patient"]["platelets"] = None
    doc["patient"]["prior_infusion"] = {"response": True, "response_date": "2023-01-01"}
    return build_plan(parse_plan_input(doc))


def test_gettext_noop_is_a_no_op():
    assert gettext_noop("Dexamethasone %(dose)s mg") == "Dexamethasone %(dose)s mg"


def test_every_reason_and_title_template_is_marked_for_translation():
    literals = marked_literals()
    plan = full_plan()
    templates = {f.reason_template for f in plan.findings}
    templates |= {e.title_template for e in plan.timeline}
    templates |= {i.title_template for i in plan.follow_up}
    assert templates - literals == set()


def test_every_reason_is_its_template_with_its_params():
    plan = full_plan()
    for finding in plan.findings:
        assert finding.reason == finding.reason_template % finding.reason_params
        assert all(isinstance(v, str) for v in finding.reason_params.values())
    for event in plan.timeline:
        assert event.title == event.title_template % event.title_params


def test_every_marked_template_formats_with_a_mapping():
    # A stray "%" would break Django's python-format check and the engine's rendering.
    for literal in marked_literals():
        literal % _AnyParams()


class _AnyParams(dict):
    def __missing__(self, key):
        return "x"
