"""A fast yes/no check of a document against the facts JSON Schema.

``jsonschema`` is the reference validator and produces the field errors, but it takes
milliseconds per document. This compiles the same schema file into generated Python
functions that only answer "valid?" in tens of microseconds, so a valid document skips
``jsonschema`` entirely. It supports exactly the keywords the schema uses and refuses
to compile anything else, so the two cannot drift apart silently; the contract tests
check that both accept and reject the same documents.

Numbers that are not finite (NaN, ±Infinity, which ``json.loads`` accepts) are invalid
wherever the schema expects a number, as validate_facts' finiteness check demands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
_SUPPORTED = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "items",
    "uniqueItems",
    "minLength",
    "maxLength",
    "$ref",
}

# Python expressions over ``v`` for each JSON type, as jsonschema's type checker sees
# them: ``type(v) is int`` leaves out bool; ``v - v == 0`` is false for NaN and
# ±Infinity. Decimals (json.loads(..., parse_float=Decimal)) are numbers, not integers.
_TYPE_EXPRESSIONS = {
    "object": "isinstance(v, dict)",
    "array": "isinstance(v, list)",
    "string": "isinstance(v, str)",
    "boolean": "(v is True or v is False)",
    "null": "v is None",
    "number": "(type(v) is int or (type(v) is float and v - v == 0)"
    " or (type(v) is Decimal and v.is_finite()))",
    "integer": "(type(v) is int or (type(v) is float and v - v == 0 and v.is_integer()))",
}
_IS_NUMBER = "(type(v) is int or type(v) is float or type(v) is Decimal)"
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


class UnsupportedSchema(ValueError):
    pass


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: true is not 1, 1.0 is 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return a == b
    return type(a) is type(b) and a == b


def _unique(items: list) -> bool:
    return not any(
        _json_equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items))
    )


class _Generator:
    def __init__(self, root: dict, pattern_checks: dict[str, Callable[[str], bool]]):
        self.root = root
        self.pattern_checks = pattern_checks
        self.lines: list[str] = []
        self.env: dict[str, Any] = {
            "_unique": _unique,
            "_json_equal": _json_equal,
            "Decimal": Decimal,
        }
        self.counter = 0
        self.defs: dict[str, str] = {}
        self.tables: list[dict[str, str]] = []  # property name -> function name

    def constant(self, value: Any) -> str:
        name = f"C{self.counter}"
        self.counter += 1
        self.env[name] = value
        return name

    def ref(self, pointer: str) -> str:
        if not pointer.startswith("#/$defs/"):
            raise UnsupportedSchema(f"unsupported $ref {pointer!r}")
        if pointer not in self.defs:
            name = f"f{self.counter}"
            self.counter += 1
            self.defs[pointer] = name  # before generating, for recursive schemas
            self.function(self.root["$defs"][pointer.rsplit("/", 1)[1]], name)
        return self.defs[pointer]

    def function(self, schema: dict, name: str | None = None) -> str:
        unknown = set(schema) - _SUPPORTED
        if unknown:
            raise UnsupportedSchema(f"unsupported keywords {sorted(unknown)}")
        if name is None:
            name = f"f{self.counter}"
            self.counter += 1
        body: list[str] = []
        if "$ref" in schema:
            body.append(f"if not {self.ref(schema['$ref'])}(v): return False")
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            expression = " or ".join(_TYPE_EXPRESSIONS[t] for t in types)
            body.append(f"if not ({expression}): return False")
        if "enum" in schema:
            body.append(f"if not ({self.enum(schema['enum'])}): return False")
        for keyword, operator in _BOUNDS.items():
            if keyword in schema:
                bound = self.constant(schema[keyword])
                body.append(f"if {_IS_NUMBER} and not (v {operator} {bound}): return False")
        if "pattern" in schema:
            stricter = self.pattern_checks.get(schema["pattern"])
            if stricter is not None:
                # e.g. dates: the pattern and a real calendar date, in one call
                check = self.constant(stricter)
                body.append(f"if isinstance(v, str) and not {check}(v): return False")
            else:
                search = self.constant(re.compile(schema["pattern"]).search)
                body.append(f"if isinstance(v, str) and {search}(v) is None: return False")
        if "minLength" in schema:
            body.append(
                f"if isinstance(v, str) and len(v) < {int(schema['minLength'])}: return False"
            )
        if "maxLength" in schema:
            body.append(
                f"if isinstance(v, str) and len(v) > {int(schema['maxLength'])}: return False"
            )
        body.extend(self.object_checks(schema))
        body.extend(self.array_checks(schema))
        self.lines.append(f"def {name}(v):")
        self.lines.extend("    " + line for line in body)
        self.lines.append("    return True")
        return name

    def enum(self, options: list) -> str:
        strings = {o for o in options if isinstance(o, str)}
        numbers = {o for o in options if isinstance(o, int | float) and not isinstance(o, bool)}
        if any(isinstance(o, float) and o != o for o in options):
            raise UnsupportedSchema("NaN in an enum")
        parts: list[str] = []
        if strings:
            parts.append(f"(isinstance(v, str) and v in {self.constant(frozenset(strings))})")
        if numbers:
            parts.append(f"({_IS_NUMBER} and v in {self.constant(frozenset(numbers))})")
        if None in options:
            parts.append("v is None")
        for option in options:
            if option is True:
                parts.append("v is True")
            elif option is False:
                parts.append("v is False")
            elif isinstance(option, dict | list):
                parts.append(f"_json_equal(v, {self.constant(option)})")
        return " or ".join(parts) or "False"

    def object_checks(self, schema: dict) -> list[str]:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        additional = schema.get("additionalProperties", True)
        if additional not in (True, False):
            raise UnsupportedSchema("additionalProperties must be true or false")
        if not (properties or required or additional is False):
            return []
        lines = ["if isinstance(v, dict):"]
        for name in required:
            lines.append(f"    if {name!r} not in v: return False")
        names = {name: self.function(sub) for name, sub in properties.items()}
        self.tables.append(names)
        table = self.constant(names)
        lines.append("    for k, x in v.items():")
        lines.append(f"        s = {table}.get(k)")
        if additional is False:
            lines.append("        if s is None or not s(x): return False")
        else:
            lines.append("        if s is not None and not s(x): return False")
        return lines

    def array_checks(self, schema: dict) -> list[str]:
        lines: list[str] = []
        if "items" in schema:
            item = self.function(schema["items"])
            lines.append("if isinstance(v, list):")
            lines.append("    for x in v:")
            lines.append(f"        if not {item}(x): return False")
        if schema.get("uniqueItems"):
            lines.append("if isinstance(v, list) and len(v) > 1 and not _unique(v): return False")
        return lines


def compile_schema(
    schema: dict, pattern_checks: dict[str, Callable[[str], bool]] | None = None
) -> Callable[[Any], bool]:
    """A function answering whether a document is valid against ``schema``.

    ``pattern_checks`` replaces the test for a given ``pattern`` by a stricter one (a
    string matching the date pattern must also be a real date): the function then
    answers "valid against the schema and those checks".
    """
    generator = _Generator(schema, pattern_checks or {})
    root = generator.function(schema)
    namespace = dict(generator.env)
    exec("\n".join(generator.lines), namespace)  # noqa: S102 - code generated from our schema
    # Property tables were filled with function names; point them at the functions.
    for table in generator.tables:
        for key, name in table.items():
            table[key] = namespace[name]
    return namespace[root]
