"""Bounded numbers: every number typed into a form or posted in JSON is checked for size
before any arithmetic touches it.

A decimal is cheap to hold however big its exponent (``Decimal("1e-999999999")`` is a
digit and an exponent), but formatting or quantizing it is not: ``format(value, "f")`` of
that number builds a billion-digit string, and ``int("9" * 100_000)`` is quadratic. No
clinical number needs more than 30 significant digits or an exponent beyond ±20, so
anything larger is refused as a field error before it is used.

Pure Python, no Django: the rule engines (``screening.engine``, ``infusion.engine``) use it
as well as the forms and the JSON APIs.
"""

import json
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_SIGNIFICANT_DIGITS = 30
MAX_EXPONENT = 20
# A number as typed or posted longer than this is refused without being parsed: 30
# digits, a sign, a point and a short exponent fit in far less.
MAX_LITERAL_LENGTH = 60
_MAX_INT = 10 ** (MAX_EXPONENT + 1)  # the first integer whose exponent is beyond ±20

MESSAGE = (
    f"is not a usable number: at most {MAX_SIGNIFICANT_DIGITS} significant digits"
    f" and an exponent within ±{MAX_EXPONENT}"
)


class UnboundedNumber(ValueError):
    """A number too long, too large or too small to be a measurement."""

    def __init__(self, text=""):
        super().__init__(MESSAGE)
        self.preview = _preview(text)


class RefusedNumber:
    """What ``loads`` puts in a document in place of a number literal it refused to read.

    It is no number (no arithmetic, no comparison, no JSON Schema type matches it), so a
    document holding one can only be answered with a field error at its path."""

    __slots__ = ("preview",)

    def __init__(self, text: str):
        self.preview = _preview(text)

    def __repr__(self) -> str:
        return f"<refused number {self.preview}>"


def _preview(text: str) -> str:
    text = str(text)
    return text if len(text) <= 24 else text[:20] + "…"


def decimal_is_bounded(value: Decimal) -> bool:
    """True for a finite decimal with at most 30 significant digits whose exponent (of
    its last digit and of its first) is within ±20. Constant time: reads the exponent and
    the digit count, never the expanded value."""
    if not value.is_finite():
        return False
    sign, digits, exponent = value.as_tuple()
    return (
        len(digits) <= MAX_SIGNIFICANT_DIGITS
        and exponent >= -MAX_EXPONENT
        and value.adjusted() <= MAX_EXPONENT
    )


def is_bounded(value: Any) -> bool:
    """False for a ``RefusedNumber`` and for a finite int, float or Decimal beyond the
    bounds; True for anything else. (NaN and the infinities are not numbers a clinician
    types; each contract already refuses them with its own message.)"""
    kind = type(value)
    if kind is int:
        return -_MAX_INT < value < _MAX_INT
    if kind is float:
        if value - value != 0:  # NaN, ±inf
            return True
        return decimal_is_bounded(Decimal(repr(value)))
    if kind is Decimal:
        return not value.is_finite() or decimal_is_bounded(value)
    return kind is not RefusedNumber


def parse_decimal(text: str) -> Decimal:
    """A bounded Decimal from text; ``UnboundedNumber`` for a number beyond the bounds,
    ``InvalidOperation`` for text that is no number. The length is checked first, so a
    megabyte of digits is refused without being read."""
    text = text.strip()
    if len(text) > MAX_LITERAL_LENGTH:
        raise UnboundedNumber(text)
    value = Decimal(text)  # cheap now: at most 60 characters
    if value.is_finite() and not decimal_is_bounded(value):
        raise UnboundedNumber(text)
    return value


def _json_float(text: str) -> Decimal | RefusedNumber:
    # json's scanner hands over the literal it matched; only the length is read before
    # the decision.
    if len(text) > MAX_LITERAL_LENGTH:
        return RefusedNumber(text)
    value = Decimal(text)
    return value if decimal_is_bounded(value) else RefusedNumber(text)


def _json_int(text: str) -> int | RefusedNumber:
    if len(text.lstrip("-")) > MAX_EXPONENT + 1:
        return RefusedNumber(text)
    value = int(text)
    return value if -_MAX_INT < value < _MAX_INT else RefusedNumber(text)


def loads(text: str | bytes) -> Any:
    """``json.loads`` with decimals kept exact (``Decimal``) and every number literal
    beyond the bounds replaced by a ``RefusedNumber`` (find them with ``unbounded``)."""
    return json.loads(text, parse_float=_json_float, parse_int=_json_int)


def _dotted(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


_LEAVES = frozenset({str, bool, type(None)})


def _all_bounded(value: Any) -> bool:
    # The common answer, fast (tens of microseconds for a whole facts document): no
    # generators, no paths.
    kind = type(value)
    if kind is dict:
        value = value.values()
    elif kind is not list and kind is not tuple:
        return kind in _LEAVES or is_bounded(value)
    for item in value:
        kind = type(item)
        if kind in _LEAVES:
            continue
        if kind is Decimal:  # inlined: the commonest number of a parsed document
            if item.is_finite():
                exponent = item.as_tuple().exponent
                if exponent < -MAX_EXPONENT or item.adjusted() > MAX_EXPONENT:
                    return False
                if item.adjusted() - exponent >= MAX_SIGNIFICANT_DIGITS:
                    return False
        elif kind is int:
            if not -_MAX_INT < item < _MAX_INT:
                return False
        elif not _all_bounded(item):
            return False
    return True


def unbounded(
    value: Any, path: str = "", join: Callable[[str, Any], str] = _dotted
) -> Iterator[str]:
    """The paths of every number in a JSON-like document that is beyond the bounds
    (a ``RefusedNumber`` from ``loads``, or an int, float or Decimal put there by code)."""
    if _all_bounded(value):
        return
    yield from _unbounded_paths(value, path, join)


def _unbounded_paths(value: Any, path: str, join: Callable[[str, Any], str]) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _unbounded_paths(item, join(path, key), join)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _unbounded_paths(item, join(path, index), join)
    elif not is_bounded(value):
        yield path


__all__ = [
    "MAX_EXPONENT",
    "MAX_SIGNIFICANT_DIGITS",
    "MESSAGE",
    "InvalidOperation",
    "RefusedNumber",
    "UnboundedNumber",
    "decimal_is_bounded",
    "is_bounded",
    "loads",
    "parse_decimal",
    "unbounded",
]
