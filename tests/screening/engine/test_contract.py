"""The engine's contract with the Django side: pure Python, JSON out, field errors for
bad input, translatable messages, versioned protocols, a text form."""

import ast
import copy
import dataclasses
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from screening.engine import (
    PROTOCOLS,
    RULES,
    SCHEMA,
    Evaluation,
    FieldError,
    Protocol,
    ValidationErrors,
    evaluate,
    evaluation_to_text,
    parse_facts,
    protocol_for,
    render_reason,
    validate_facts,
)
from screening.engine.__main__ import main as cli
from screening.engine.evaluate import resolve_protocol
from screening.engine.i18n import render
from screening.engine.validation import _FAST_VALID

from . import REPO_ROOT, eligible_document, load_example
from . import make_case as case

ENGINE_DIR = REPO_ROOT / "screening" / "engine"


# --- Pure Python -------------------------------------------------------------------------


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_no_engine_module_imports_django():
    modules = list(ENGINE_DIR.rglob("*.py"))
    assert len(modules) >= 15
    offenders = {
        str(path.relative_to(REPO_ROOT)): module
        for path in modules
        for module in imported_modules(path)
        if module == "django" or module.startswith("django.")
    }
    assert offenders == {}


def test_importing_the_engine_loads_no_django_module():
    code = (
        "import sys, screening.engine\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'django')\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


# --- Output ------------------------------------------------------------------------------


def test_it_evaluates_every_rule_of_the_indication_in_order():
    evaluation = case("AAV").evaluate()
    assert [r.rule_id for r in evaluation.criteria] == [
        *(f"A-GEN-{n}" for n in range(1, 6)),
        *(f"A-AAV-{n}" for n in range(1, 5)),
        "A-REF-1",
        *(f"A-ORG-{n}" for n in range(1, 7)),
    ]
    assert all(r.title == RULES[r.rule_id] for r in evaluation.criteria)


def test_to_dict_is_json_with_exact_numbers():
    result = case("SLE").lab("inr", 1.8, "ratio", uln=1.2).evaluate().to_dict()
    text = json.dumps(result, ensure_ascii=False)
    org_2 = next(c for c in json.loads(text)["criteria"] if c["rule_id"] == "A-ORG-2")
    assert org_2["status"] == "met"
    assert org_2["values"]["inr"] == "1.8"
    assert org_2["values"]["inr_uln"] == "1.2"
    assert org_2["values"]["inr_limit"] == "1.80"
    assert org_2["observed_on"] == ["2026-02-24", "2026-03-01"]  # APTT, INR
    assert set(org_2) == {
        "rule_id",
        "title",
        "status",
        "reason",
        "reason_template",
        "reason_params",
        "reason_parts",
        "values",
        "observed_on",
    }


def test_overall_eligible_ineligible_incomplete():
    assert case("SLE").evaluate().overall.value == "eligible"
    stale = case("SLE").lab("inr", 1.0, "ratio", uln=1.2, days_before=40)
    evaluation = stale.evaluate()
    assert (evaluation.overall.value, evaluation.unknown, evaluation.failing) == (
        "incomplete",
        ("A-ORG-2",),
        (),
    )
    assert [(m.field, m.rule_id) for m in evaluation.missing] == [("labs.inr", "A-ORG-2")]
    failing = stale.set("patient.date_of_birth", "2010-01-01").evaluate()
    assert (failing.overall.value, failing.failing) == ("ineligible", ("A-GEN-1",))
    assert failing.to_dict()["missing"] == [
        {
            "field": "labs.inr",
            "rule_id": "A-ORG-2",
            "reason": "stale: observed 2026-01-21, older than 28-day screening window",
            "reason_template": "stale: observed {observed_on}, older than {window_days}-day screening window",
            "reason_params": {"observed_on": "2026-01-21", "window_days": "28"},
        }
    ]


def test_missing_is_only_reported_for_unknown_criteria():
    c = case("SLE").delete("labs.aptt").lab("inr", 2.5, "ratio", uln=1.2)
    evaluation = c.evaluate()
    assert evaluation.criterion("A-ORG-2").status.value == "not_met"
    assert evaluation.missing == ()


def test_every_result_has_a_one_line_reason_and_iso_dates():
    for name in ("sle", "dcssc", "aav", "iim", "ss"):
        for result in evaluate(load_example(name)).to_dict()["criteria"]:
            assert result["reason"] and "\n" not in result["reason"]
            assert result["reason_template"].format(**result["reason_params"]) == result["reason"]
            assert all(date.fromisoformat(d) for d in result["observed_on"])


# --- Translation -------------------------------------------------------------------------


def marked_literals():
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


def translatable_outputs(evaluation):
    for result in evaluation.criteria:
        yield result.title
        for part in result.reason_parts:
            yield part.template
            yield from (v for k, v in part.params.items() if k == "label" or k.endswith("_label"))
    for item in evaluation.missing:
        yield item.reason.template


def many_evaluations():
    """Examples plus variants that reach the unknown and not-met messages."""
    for name in ("sle", "dcssc", "aav", "iim", "ss"):
        doc = load_example(name)
        yield evaluate(doc)
        emptied = {k: doc[k] for k in ("screening_date", "indication")}
        yield evaluate(emptied)
        stale = copy.deepcopy(doc)
        for lab in stale["labs"].values():
            lab["date"] = "2025-01-01"
            lab.pop("uln", None)
        yield evaluate(stale)


def test_every_message_template_label_and_title_is_marked_for_translation():
    literals = marked_literals()
    used = {text for evaluation in many_evaluations() for text in translatable_outputs(evaluation)}
    assert used - literals == set()
    assert set(RULES.values()) <= literals


def test_every_marked_template_formats_with_str_format():
    class AnyParams(dict):
        def __missing__(self, key):
            return "x"

    for literal in marked_literals():
        literal.format_map(AnyParams())


def test_a_ui_can_translate_part_by_part():
    catalogue = {
        "{label} stale: observed {observed_on}, older than {window_days}-day screening window": (
            "{label} 已过期：{observed_on} 的结果早于 {window_days} 天筛选窗口"
        ),
        "{label} {value}: no ULN for the reporting lab": "{label} {value}：报告实验室无 ULN",
        "INR": "国际标准化比值",
    }
    result = evaluate(load_example("aav")).to_dict()["criteria"]
    org_2 = next(r for r in result if r["rule_id"] == "A-ORG-2")
    assert render_reason(org_2, lambda s: catalogue.get(s, s)) == (
        "国际标准化比值 已过期：2026-04-01 的结果早于 28 天筛选窗口; APTT 33 s：报告实验室无 ULN"
    )
    assert render(org_2["reason_parts"][0]) == org_2["reason"].split("; ")[0]
    assert render_reason(org_2) == org_2["reason"]


# --- Protocols ---------------------------------------------------------------------------


def amendment(**changes):
    """A test-only protocol 1.1 (not clinical content), in effect from 2026-04-01."""
    changes = {"version": "1.1-test", "effective_from": date(2026, 4, 1), **changes}
    return dataclasses.replace(PROTOCOLS["1.0"], **changes)


def test_protocol_1_0_is_the_default_and_is_recorded():
    assert "1.0" in PROTOCOLS
    evaluation = case("SLE").evaluate()
    assert evaluation.protocol_version == "1.0"
    assert evaluation.to_dict()["protocol_version"] == "1.0"


def test_the_protocol_in_effect_on_the_screening_date_is_chosen():
    registry = {"1.0": PROTOCOLS["1.0"], "1.1-test": amendment()}
    assert protocol_for(date(2026, 3, 31), registry).version == "1.0"
    assert protocol_for(date(2026, 4, 1), registry).version == "1.1-test"
    facts = parse_facts(eligible_document("AAV"))  # screened 2026-05-20
    assert resolve_protocol(facts, None, registry).version == "1.1-test"
    assert resolve_protocol(facts, None).version == "1.0"


def test_an_amendment_changes_thresholds_without_editing_1_0():
    older = dataclasses.replace(
        PROTOCOLS["1.0"].thresholds, age_max_years=70
    )  # a test-only amendment, not clinical content
    protocol = amendment(thresholds=older)
    c = case("SLE").set("patient.date_of_birth", "1958-06-01")  # 67
    assert c.result("A-GEN-1").status.value == "not_met"
    assert c.result("A-GEN-1", protocol=protocol).status.value == "met"
    assert c.evaluate(protocol=protocol).protocol_version == "1.1-test"
    assert PROTOCOLS["1.0"].thresholds.age_max_years == 65


def test_the_screening_window_is_protocol_data():
    c = case("SLE").lab("inr", 1.0, "ratio", uln=1.2, days_before=20)
    assert c.status("A-ORG-2") == "met"
    narrow = amendment(screening_window_days=14)
    result = c.result("A-ORG-2", protocol=narrow)
    assert result.status.value == "unknown"
    assert "older than 14-day screening window" in result.reason


def test_a_protocol_version_can_be_named():
    assert case("SLE").evaluate(protocol="1.0").protocol_version == "1.0"


def test_no_protocol_before_1_0_is_a_field_error():
    doc = {"screening_date": "1990-01-01", "indication": "SLE"}
    assert [e.path for e in validate_facts(doc)] == ["screening_date"]
    with pytest.raises(ValidationErrors):
        evaluate(doc)
    assert evaluate(doc, protocol=amendment(effective_from=date(1900, 1, 1))).overall.value == (
        "incomplete"
    )


def test_protocols_are_immutable():
    assert isinstance(PROTOCOLS["1.0"], Protocol)
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROTOCOLS["1.0"].screening_window_days = 10  # type: ignore[misc]
    with pytest.raises(TypeError):
        PROTOCOLS["1.0"].sle_dose_ceilings["prednisone"] = None  # type: ignore[index]


# --- Validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "paths"),
    [
        ([], [""]),
        ("SLE", [""]),
        (None, [""]),
        ({}, ["indication", "screening_date"]),
        ({"screening_date": "2026-03-02", "indication": "RA"}, ["indication"]),
        ({"screening_date": "2026-02-30", "indication": "SLE"}, ["screening_date"]),
        ({"screening_date": "02/03/2026", "indication": "SLE"}, ["screening_date"]),
        ({"screening_date": "2026-03-02", "indication": "SLE", "lab": {}}, ["lab"]),
        (
            {
                "screening_date": "2026-03-02",
                "indication": "SLE",
                "patient": {"weight_kg": {"value": -3, "date": "2026-03-01"}},
            },
            ["patient.weight_kg.value"],
        ),
        (
            {"screening_date": "2026-03-02", "indication": "SLE", "patient": {"sex": "F"}},
            ["patient.sex"],
        ),
        (
            {
                "screening_date": "2026-03-02",
                "indication": "SLE",
                "labs": {"inr": {"value": "1.2", "unit": "ratio", "date": "2026-03-01"}},
            },
            ["labs.inr.value"],
        ),
        (
            {
                "screening_date": "2026-03-02",
                "indication": "SLE",
                "labs": {"inr": {"value": 1.2, "unit": "mmHg", "date": "2026-03-01"}},
            },
            ["labs.inr.unit"],
        ),
        (
            {
                "screening_date": "2026-03-02",
                "indication": "SLE",
                "labs": {"inr": {"value": float("nan"), "unit": "ratio", "date": "2026-03-01"}},
            },
            ["labs.inr.value"],
        ),
        (
            {
                "screening_date": "2026-03-02",
                "indication": "SLE",
                "treatment_history": [
                    {"drug": "prednisone", "start": "2026-01-01", "end": "2025-01-01"}
                ],
            },
            ["treatment_history.0.end"],
        ),
        (
            {
                "screening_date": "2026-03-02",
                "indication": "SLE",
                "treatment_history": [
                    {
                        "drug": "methotrexate",
                        "dose": {"value": 3, "unit": "mg/day"},
                        "start": "2026-01-01",
                    }
                ],
            },
            ["treatment_history.0.dose.unit"],
        ),
    ],
)
def test_malformed_documents_give_field_errors(doc, paths):
    errors = validate_facts(doc)
    assert all(isinstance(e, FieldError) and e.message for e in errors)
    assert sorted({e.path for e in errors}) == sorted(paths)
    with pytest.raises(ValidationErrors) as raised:
        evaluate(doc)
    assert raised.value.errors == errors


def test_field_errors_serialise():
    [error] = validate_facts({"screening_date": "2026-03-02", "indication": "RA"})
    assert error.to_dict() == {
        "path": "indication",
        "message": "must be one of SLE, dcSSc, AAV, IIM, SS, not 'RA'",
    }


def test_documents_parsed_with_decimals_are_accepted():
    text = (REPO_ROOT / "docs/examples/screening/sle.json").read_text(encoding="utf-8")
    doc = json.loads(text, parse_float=Decimal)
    assert validate_facts(doc) == []
    assert evaluate(doc).to_dict() == evaluate(json.loads(text)).to_dict()
    doc["labs"]["inr"]["value"] = Decimal("NaN")
    assert [e.path for e in validate_facts(doc)] == ["labs.inr.value"]


def test_meta_is_free_form_and_ignored():
    doc = load_example("sle")
    doc["meta"] = {"anything": [1, float("nan"), {"x": None}]}
    assert validate_facts(doc) == []


def test_the_schema_file_is_draft_2020_12_and_examples_conform():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for name in ("sle", "dcssc", "aav", "iim", "ss"):
        assert list(Draft202012Validator(SCHEMA).iter_errors(load_example(name))) == []


def test_the_fast_check_agrees_with_jsonschema_on_edits_of_the_examples():
    validator = Draft202012Validator(SCHEMA)
    edits = [
        ("labs.inr.value", "1"),
        ("labs.inr.value", True),
        ("labs.inr.value", 1e7),
        ("labs.inr", None),
        ("patient.sex", None),
        ("patient.sex", "other"),
        ("general.menopausal_months", 12.0),
        ("organ_function.nyha_class.value", 2.0),
        ("organ_function.nyha_class.value", 2.5),
        ("sle.sledai_2k.descriptors", ["rash", "rash"]),
        ("sle.ana.titre", "1:0"),
        ("treatment_history", []),
        ("treatment_history", {}),
        ("extra", 1),
    ]
    for path, value in edits:
        doc = load_example("sle")
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[part]
        node[last] = value
        assert _FAST_VALID(doc) == validator.is_valid(doc), path


# --- Text form ---------------------------------------------------------------------------


def test_text_has_one_line_per_criterion_then_overall_and_missing():
    evaluation = evaluate(load_example("aav"))
    lines = evaluation_to_text(evaluation).splitlines()
    assert lines[0] == "Screening AAV on 2026-05-20 (protocol 1.0)"
    assert lines[1].startswith("A-GEN-1  met      age 64 years")
    assert any(line.startswith("A-ORG-2  unknown  INR stale") for line in lines)
    assert lines[-4:] == [
        "Overall: INCOMPLETE (unknown: A-ORG-2)",
        "Missing:",
        "  labs.inr [A-ORG-2]: stale: observed 2026-04-01, older than 28-day screening window",
        "  labs.aptt.uln [A-ORG-2]: no ULN for the reporting lab",
    ]
    assert len(lines) == 1 + len(evaluation.criteria) + 4


def test_the_command_line_prints_text_or_json(capsys):
    path = str(REPO_ROOT / "docs/examples/screening/ss.json")
    assert cli([path]) == 3  # ineligible
    assert "Overall: INELIGIBLE (failing: A-SS-4)" in capsys.readouterr().out
    assert cli([path, "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["overall"] == "ineligible"


def test_evaluate_accepts_typed_facts():
    facts = parse_facts(case("SLE").doc)
    assert isinstance(evaluate(facts), Evaluation)


def test_the_schema_vocabularies_match_the_engine():
    from screening.engine.calculators import (
        ESSDAI_DOMAINS,
        HAQ_DI_CATEGORIES,
        MMT8_AXIAL,
        MMT8_BILATERAL,
        SLEDAI_2K_WEIGHTS,
    )
    from screening.engine.drugs import ALL_DRUGS, DOSE_UNITS, GLUCOCORTICOIDS
    from screening.engine.units import ANALYTE_UNITS

    defs, top = SCHEMA["$defs"], SCHEMA["properties"]
    assert set(defs["treatmentEpisode"]["properties"]["drug"]["enum"]) == ALL_DRUGS
    assert set(defs["dose"]["properties"]["unit"]["enum"]) == DOSE_UNITS
    response = top["aav"]["properties"]["response"]["properties"]
    assert set(response["glucocorticoid"]["properties"]["drug"]["enum"]) == GLUCOCORTICOIDS
    assert set(top["labs"]["properties"]) == set(ANALYTE_UNITS)
    sledai = top["sle"]["properties"]["sledai_2k"]["properties"]["descriptors"]["items"]["enum"]
    assert set(sledai) == set(SLEDAI_2K_WEIGHTS)
    domains = top["ss"]["properties"]["essdai"]["properties"]["domains"]["properties"]
    assert {d: set(s["enum"]) for d, s in domains.items()} == {
        d: set(levels) for d, (_, levels) in ESSDAI_DOMAINS.items()
    }
    haq = top["iim"]["properties"]["haq_di"]["properties"]
    assert set(haq["categories"]["properties"]) == set(HAQ_DI_CATEGORIES)
    mmt8 = top["iim"]["properties"]["mmt8"]["properties"]["scores"]["properties"]
    assert set(mmt8) == set(MMT8_AXIAL) | set(MMT8_BILATERAL)
