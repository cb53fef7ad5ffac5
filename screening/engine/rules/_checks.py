"""Three-valued checks and the helpers every rule uses.

A Check is a partial verdict with its English messages, the values and observation
dates it used, and the inputs that would settle it when it is unknown. Rules combine
checks with Kleene logic: all_of (AND), any_of (OR), at_least (n of m).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from ..facts import Dated, Facts, LabValue
from ..i18n import Message, gettext_noop
from ..protocols import Protocol
from ..results import Status
from ..units import ANALYTE_LABELS, convert

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN

# --- Message templates shared by the rules --------------------------------------------
T_COMPARE = gettext_noop("{label} {value} {op} {threshold}")
T_COMPARE_CONVERTED = gettext_noop("{label} {value} (= {converted}) {op} {threshold}")
T_RATIO = gettext_noop("{label} {value} {op} {factor} × ULN {uln} (= {limit})")
# C-UNIT-1: a ULN in another unit than its value, converted before the comparison.
T_RATIO_CONVERTED = gettext_noop(
    "{label} {value} {op} {factor} × ULN {uln} (= {uln_converted}; limit {limit})"
)
T_RANGE_IN = gettext_noop("{label} {value} within {low}–{high}")
T_RANGE_OUT = gettext_noop("{label} {value} outside {low}–{high}")
T_ANSWER = gettext_noop("{label}: {answer_label}")
T_MISSING_PART = gettext_noop("{label} missing")
T_STALE_PART = gettext_noop(
    "{label} stale: observed {observed_on}, older than {window_days}-day screening window"
)
T_FUTURE_PART = gettext_noop(
    "{label} unusable: observed {observed_on}, after the screening date {screening_date}"
)
T_NO_ULN_PART = gettext_noop("{label} {value}: no ULN for the reporting lab")

# Reasons in the "missing" list.
R_MISSING = gettext_noop("missing")
R_STALE = gettext_noop(
    "stale: observed {observed_on}, older than {window_days}-day screening window"
)
R_FUTURE = gettext_noop(
    "unusable: observed {observed_on}, after the screening date {screening_date}"
)
R_NO_ULN = gettext_noop("no ULN for the reporting lab")
_R_MISSING_MESSAGE = Message(R_MISSING, {})

YES = gettext_noop("yes")
NO = gettext_noop("no")

GE, LE, GT, LT = "≥", "≤", ">", "<"
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    GE: operator.ge,
    LE: operator.le,
    GT: operator.gt,
    LT: operator.lt,
}
_NEGATION = {GE: LT, LT: GE, LE: GT, GT: LE}


def shown_op(op: str, ok: bool) -> str:
    """The operator that states the outcome: "≥" when met, "<" when not."""
    return op if ok else _NEGATION[op]


def msg(template: str, **params: object) -> Message:
    return Message(template, params)


# --- Number display --------------------------------------------------------------------


def fmt(value: Decimal | int) -> str:
    """An input or exact value, without exponent and without trailing zeros added."""
    if isinstance(value, int):
        return str(value)
    return format(value, "f")


def fmt_exact(value: Decimal) -> str:
    """An exact computed value (1.5 × 1.20 = 1.800) shown as 1.8 (and 1E+2 as 100)."""
    return format(value.normalize(), "f")


_TWO_PLACES = Decimal("0.01")


def fmt_rounded(value: Decimal, op: str, places: Decimal = _TWO_PLACES) -> str:
    """A computed value rounded for display without contradicting its comparison.

    With "≥"/"<" we round down and with "≤"/">" up, so a value shown next to a
    threshold with at most two decimals never appears on the wrong side of it.
    """
    rounding = ROUND_FLOOR if op in (GE, LT) else ROUND_CEILING
    return fmt_exact(_quantize(value, places, rounding))


def fmt_display(value: Decimal, places: Decimal = _TWO_PLACES) -> str:
    """A computed value shown for information only (not next to its threshold)."""
    return fmt_exact(_quantize(value, places, ROUND_HALF_EVEN))


def _quantize(value: Decimal, places: Decimal, rounding: str) -> Decimal:
    try:
        return value.quantize(places, rounding=rounding)
    except InvalidOperation:  # more digits than the context holds: show it whole
        return value


def with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


class Qty:
    """A number with its unit, formatted only when a message is rendered."""

    __slots__ = ("value", "unit", "exact")

    def __init__(self, value: Decimal | int, unit: str = "", exact: bool = False):
        self.value = value
        self.unit = unit
        self.exact = exact

    def __str__(self) -> str:
        value = self.value
        text = fmt_exact(value) if self.exact and isinstance(value, Decimal) else fmt(value)
        return with_unit(text, self.unit)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Qty) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"Qty({self})"


# --- Checks ----------------------------------------------------------------------------


class Check:
    """A partial verdict: status, messages, values and observation dates used, and the
    inputs (field path, reason) that would settle it while it is unknown."""

    __slots__ = ("status", "messages", "values", "observed_on", "missing")

    def __init__(
        self,
        status: Status,
        messages: list[Message],
        values: dict[str, Any] | None = None,
        observed_on: list[date] | None = None,
        missing: list[tuple[str, Message]] | None = None,
    ):
        self.status = status
        self.messages = messages
        self.values = {} if values is None else values
        self.observed_on = [] if observed_on is None else observed_on
        self.missing = [] if missing is None else missing


def check(
    status: Status,
    message: Message,
    values: dict[str, Any] | None = None,
    observed_on: Iterable[date] = (),
) -> Check:
    return Check(status, [message], values, list(observed_on))


def decided(
    ok: bool,
    message: Message,
    values: dict[str, Any] | None = None,
    observed_on: Iterable[date] = (),
) -> Check:
    return Check(MET if ok else NOT_MET, [message], values, list(observed_on))


def unknown(message: Message, field_path: str, reason: Message) -> Check:
    return Check(UNKNOWN, [message], None, None, [(field_path, reason)])


def missing(label: str, field_path: str) -> Check:
    return Check(
        UNKNOWN,
        [Message(T_MISSING_PART, {"label": label})],
        None,
        None,
        [(field_path, _R_MISSING_MESSAGE)],
    )


def _merge(status: Status, checks: Iterable[Check]) -> Check:
    merged = Check(status, [])
    messages, values, observed_on, missing_items = (
        merged.messages,
        merged.values,
        merged.observed_on,
        merged.missing,
    )
    for part in checks:
        messages.extend(part.messages)
        if part.values:
            values.update(part.values)
        if part.observed_on:
            observed_on.extend(part.observed_on)
        if part.missing:
            missing_items.extend(part.missing)
    return merged


def negate(part: Check) -> Check:
    """Swap met and not met (unknown stays unknown); messages are statements of fact."""
    flipped = {MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN}[part.status]
    return Check(
        flipped, list(part.messages), dict(part.values), list(part.observed_on), list(part.missing)
    )


def without_repeats(part: Check) -> Check:
    """Drop messages reported twice (a sub-check shared by two branches)."""
    part.messages = list({id(m): m for m in part.messages}.values())
    return part


def all_of(*checks: Check) -> Check:
    status = MET
    for part in checks:
        if part.status is NOT_MET:
            status = NOT_MET
            break
        if part.status is UNKNOWN:
            status = UNKNOWN
    return _merge(status, checks)


def any_of(*checks: Check) -> Check:
    status = NOT_MET
    for part in checks:
        if part.status is MET:
            # Settled: what is still unknown no longer matters, so it is left out.
            return _merge(MET, [c for c in checks if c.status is not UNKNOWN])
        if part.status is UNKNOWN:
            status = UNKNOWN
    return _merge(status, checks)


def first_met(*alternatives: Callable[[], Check]) -> Check:
    """OR over alternatives evaluated in order, stopping at the first one met.

    The reason names what settled it and the alternatives before it that were not met;
    when none is met every alternative is reported.
    """
    evaluated: list[Check] = []
    for alternative in alternatives:
        part = alternative()
        if part.status is MET:
            if not evaluated:
                return part
            # Keep the alternatives that failed: they say why this one was needed.
            evaluated = [c for c in evaluated if c.status is NOT_MET]
            evaluated.append(part)
            return _merge(MET, evaluated)
        evaluated.append(part)
    return any_of(*evaluated)


def at_least(count: int, checks: list[Check], summary: Message | None = None) -> Check:
    met = sum(c.status is MET for c in checks)
    undecided = sum(c.status is UNKNOWN for c in checks)
    if met >= count:
        status = MET
        checks = [c for c in checks if c.status is not UNKNOWN]
    elif met + undecided < count:
        status = NOT_MET
    else:
        status = UNKNOWN
    merged = _merge(status, checks)
    if summary is not None:
        merged.messages.insert(0, summary)
    return merged


def answer(
    label: str, value: bool | None, field_path: str, key: str, expected: bool = True
) -> Check:
    """A yes/no fact that must equal ``expected``; None is unknown."""
    if value is None:
        return missing(label, field_path)
    return decided(
        value is expected,
        msg(T_ANSWER, label=label, answer_label=YES if value else NO),
        {key: value},
    )


def compare(
    label: str,
    value: Decimal | int,
    op: str,
    threshold: Decimal | int,
    *,
    key: str,
    unit: str = "",
    value_text: str | None = None,
    threshold_text: str | None = None,
    observed_on: Iterable[date] = (),
    extra_values: dict[str, Any] | None = None,
) -> Check:
    ok = _OPS[op](value, threshold)
    shown = op if ok else _NEGATION[op]
    values: dict[str, Any] = {key: value}
    if extra_values:
        values.update(extra_values)
    return decided(
        ok,
        msg(
            T_COMPARE,
            label=label,
            value=value_text if value_text is not None else Qty(value, unit),
            op=shown,
            threshold=(threshold_text if threshold_text is not None else Qty(threshold, unit)),
        ),
        values,
        observed_on,
    )


def in_range(
    label: str,
    value: Decimal,
    low: Decimal,
    high: Decimal,
    *,
    key: str,
    unit: str = "",
    observed_on: Iterable[date] = (),
) -> Check:
    ok = low <= value <= high
    return decided(
        ok,
        msg(
            T_RANGE_IN if ok else T_RANGE_OUT,
            label=label,
            value=Qty(value, unit),
            low=Qty(low),
            high=Qty(high, unit),
        ),
        {key: value},
        observed_on,
    )


# --- Evaluation context ----------------------------------------------------------------


_LAB_KEYS = {a: (a, f"{a}_unit", f"{a}_uln", f"{a}_limit") for a in ANALYTE_LABELS}
_LAB_PATHS = {a: f"labs.{a}" for a in ANALYTE_LABELS}


class Ctx:
    """What every rule needs: the facts, the protocol and the screening window."""

    __slots__ = (
        "facts",
        "protocol",
        "t",
        "w",
        "screening_date",
        "window_start",
        "window_days",
        "cache",
    )

    def __init__(self, facts: Facts, protocol: Protocol):
        self.facts = facts
        self.protocol = protocol
        self.t = protocol.thresholds
        self.w = protocol.windows
        self.screening_date = facts.screening_date
        self.window_days = protocol.screening_window_days
        self.window_start = facts.screening_date - timedelta(days=self.window_days)
        self.cache: dict[str, Any] = {}  # derived data shared by several rules

    def unusable(self, observed_on: date | None, field_path: str, label: str) -> Check | None:
        """None when a screening observation dated ``observed_on`` is usable; else why not."""
        if observed_on is None:
            return missing(label, field_path)
        if observed_on > self.screening_date:
            params = {
                "observed_on": observed_on.isoformat(),
                "screening_date": self.screening_date.isoformat(),
            }
            return unknown(
                msg(T_FUTURE_PART, label=label, **params), field_path, msg(R_FUTURE, **params)
            )
        if observed_on < self.window_start:
            params = {"observed_on": observed_on.isoformat(), "window_days": self.window_days}
            return unknown(
                msg(T_STALE_PART, label=label, **params), field_path, msg(R_STALE, **params)
            )
        return None

    def observation(
        self, obs: Dated | LabValue | None, field_path: str, label: str
    ) -> Check | None:
        if obs is None:
            return missing(label, field_path)
        if self.window_start <= obs.date <= self.screening_date:
            return None
        return self.unusable(obs.date, field_path, label)

    def history_unusable(self, on: date | None, field_path: str, label: str) -> Check | None:
        """History dates have no screening window, but must not be after screening."""
        if on is None:
            return missing(label, field_path)
        if on > self.screening_date:
            params = {
                "observed_on": on.isoformat(),
                "screening_date": self.screening_date.isoformat(),
            }
            return unknown(
                msg(T_FUTURE_PART, label=label, **params), field_path, msg(R_FUTURE, **params)
            )
        return None

    def latest_in_window(
        self, series: tuple[Dated, ...] | None, field_path: str, label: str
    ) -> tuple[Dated | None, Check | None]:
        """The latest observation of a series usable for screening, or why there is none."""
        if series is None:
            return None, missing(label, field_path)
        usable = [item for item in series if item.date <= self.screening_date]
        if not usable:
            if series:
                return None, self.unusable(min(i.date for i in series), field_path, label)
            return None, missing(label, field_path)
        latest = max(usable, key=lambda item: item.date)
        problem = self.unusable(latest.date, field_path, label)
        return (None, problem) if problem else (latest, None)

    # --- Labs ---------------------------------------------------------------------

    def lab(self, analyte: str) -> tuple[LabValue | None, Check | None]:
        lab = self.facts.labs.get(analyte)
        if lab is not None and self.window_start <= lab.date <= self.screening_date:
            return lab, None
        return None, self.observation(lab, _LAB_PATHS[analyte], ANALYTE_LABELS[analyte])

    def lab_minimum(self, analyte: str, threshold: Decimal, unit: str, key: str) -> Check:
        """Lab value, converted to ``unit``, at least ``threshold``."""
        lab, problem = self.lab(analyte)
        if problem:
            return problem
        assert lab is not None
        label = ANALYTE_LABELS[analyte]
        if lab.unit == unit:
            value = lab.value
            ok = value >= threshold
            return Check(
                MET if ok else NOT_MET,
                [
                    Message(
                        T_COMPARE,
                        {
                            "label": label,
                            "value": Qty(value, unit),
                            "op": GE if ok else LT,
                            "threshold": Qty(threshold, unit),
                        },
                    )
                ],
                {analyte: value, _LAB_KEYS[analyte][1]: unit, key: value},
                [lab.date],
            )
        value = convert(analyte, lab.value, lab.unit, unit)
        values = {analyte: lab.value, _LAB_KEYS[analyte][1]: lab.unit, key: value}
        ok = value >= threshold
        op = GE if ok else LT
        return decided(
            ok,
            msg(
                T_COMPARE_CONVERTED,
                label=label,
                value=Qty(lab.value, lab.unit),
                converted=with_unit(fmt_rounded(value, op), unit),
                op=op,
                threshold=Qty(threshold, unit),
            ),
            values,
            [lab.date],
        )

    def lab_uln(self, analyte: str, factor: Decimal, op: str) -> Check:
        """Lab value compared with factor × the reporting lab's ULN, the ULN converted to
        the value's unit first when it carries another one (C-UNIT-1)."""
        lab, problem = self.lab(analyte)
        if problem:
            return problem
        assert lab is not None
        label = ANALYTE_LABELS[analyte]
        unit = "" if lab.unit == "ratio" else lab.unit
        if lab.uln is None:
            return unknown(
                msg(T_NO_ULN_PART, label=label, value=Qty(lab.value, unit)),
                f"labs.{analyte}.uln",
                msg(R_NO_ULN),
            )
        keys = _LAB_KEYS[analyte]
        if lab.uln_unit is not None and lab.uln_unit != lab.unit:
            return self._lab_uln_converted(lab, analyte, factor, op)
        limit = factor * lab.uln
        ok = _OPS[op](lab.value, limit)
        return Check(
            MET if ok else NOT_MET,
            [
                Message(
                    T_RATIO,
                    {
                        "label": label,
                        "value": Qty(lab.value, unit),
                        "op": op if ok else _NEGATION[op],
                        "factor": Qty(factor),
                        "uln": Qty(lab.uln, unit),
                        "limit": Qty(limit, unit, exact=True),
                    },
                )
            ],
            {keys[0]: lab.value, keys[1]: lab.unit, keys[2]: lab.uln, keys[3]: limit},
            [lab.date],
        )

    def _lab_uln_converted(self, lab: LabValue, analyte: str, factor: Decimal, op: str) -> Check:
        """C-UNIT-1: the ULN in its own unit, converted exactly to the value's (e.g. a
        creatinine of 3.39 mg/dL against a ULN of 84 µmol/L = 0.95 mg/dL)."""
        assert lab.uln is not None and lab.uln_unit is not None
        uln = convert(analyte, lab.uln, lab.uln_unit, lab.unit)
        limit = factor * uln
        ok = _OPS[op](lab.value, limit)
        shown = op if ok else _NEGATION[op]
        keys = _LAB_KEYS[analyte]
        return decided(
            ok,
            msg(
                T_RATIO_CONVERTED,
                label=ANALYTE_LABELS[analyte],
                value=Qty(lab.value, lab.unit),
                op=shown,
                factor=Qty(factor),
                uln=Qty(lab.uln, lab.uln_unit),
                uln_converted=with_unit(fmt_display(uln), lab.unit),
                # Rounded away from the value, so the shown limit keeps the comparison.
                limit=with_unit(fmt_rounded(limit, GE if shown in (GE, GT) else LE), lab.unit),
            ),
            {
                keys[0]: lab.value,
                keys[1]: lab.unit,
                keys[2]: uln,
                keys[3]: limit,
                f"{analyte}_uln_as_reported": lab.uln,
                f"{analyte}_uln_unit": lab.uln_unit,
            },
            [lab.date],
        )
