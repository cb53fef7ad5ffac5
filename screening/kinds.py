"""Group kinds of the screening form: how one item of the facts document is drawn as
inputs and read back from a POST. Input names are the engine's own field paths
("labs.inr.unit", "treatment_history.0.start"), so a field error from the engine lands
on the input it names. Reading never raises: a value that does not read becomes a
specific message on its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import numbers
from core.forms import BOUNDED_NUMBER_MESSAGE
from screening.engine import mmt8_total
from screening.engine.bvas import BVAS_NOT_MAJOR, bvas_item_is_major
from screening.engine.calculators import (
    ESSDAI_DOMAINS,
    HAQ_DI_CATEGORIES,
    MMT8_BILATERAL,
    SLEDAI_2K_WEIGHTS,
)
from screening.engine.drugs import ALL_DRUGS, DOSE_UNITS, DRUG_LABELS, GLUCOCORTICOIDS
from screening.engine.units import ANALYTE_UNITS

from .reference import engine_unit, number
from .vocab import (
    ANA_TITRES,
    ANALYTES_WITH_ULN,
    BVAS_ITEM_LABELS,
    BVAS_ITEMS,
    ESSDAI_LABELS,
    ESSDAI_LEVELS,
    HAQ_LABELS,
    MMT8_LABELS,
    POS_NEG,
    SLEDAI_LABELS,
    YES_NO,
)

MAX_TEXT = 200
MAX_ROWS = 30


# --- Inputs, as screening/jinja2/screening/form.jinja draws them ------------------------


@dataclass
class Input:
    name: str
    widget: str  # number, date, text, select, checkbox
    label: object = ""
    value: object = ""
    options: list = field(default_factory=list)  # [(str value, label)] for selects
    checked: bool = False
    attrs: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    size: str = ""  # css width class: xs, s, m, l

    @property
    def id(self):
        suffix = f"-{self.value}" if self.widget == "checkbox" else ""
        return "in-" + (self.name + suffix).replace(".", "-").replace(" ", "_")


@dataclass
class Line:
    caption: object
    inputs: list
    cls: str = ""


def input_id(name):
    return "in-" + name.replace(".", "-")


def anchor_id(path):
    return "fld-" + path.replace(".", "-")


# --- Reading POST values --------------------------------------------------------------


class Reader:
    """Reads one group's inputs from the POST data, collecting per-input messages."""

    def __init__(self, data):
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def error(self, name, message):
        self.errors.setdefault(name, []).append(str(message))

    def text(self, name):
        value = self.data.get(name, "")
        return clean_text(value).strip()[:MAX_TEXT] if isinstance(value, str) else ""

    def many(self, name):
        getlist = getattr(self.data, "getlist", None)
        values = getlist(name) if getlist else self.data.get(name, [])
        if isinstance(values, str):
            values = [values]
        return [clean_text(v) for v in values if isinstance(v, str) and v]

    def number(self, name, *, integer=False, low=None, high=None):
        raw = self.text(name).replace(",", ".")
        if not raw:
            return None
        try:
            value = numbers.parse_decimal(raw)  # bounded before any arithmetic
        except numbers.UnboundedNumber:
            self.error(name, BOUNDED_NUMBER_MESSAGE)
            return None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.error(name, _("Enter a number."))
            return None
        if integer and value != value.to_integral_value():
            self.error(name, _("Enter a whole number."))
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(
                name, _("Enter a value from %(low)s to %(high)s.") % {"low": low, "high": high}
            )
            return None
        return number(value)

    def date(self, name):
        raw = self.text(name)
        if not raw:
            return None
        try:
            parsed = date.fromisoformat(raw)
        except ValueError:
            parsed = None
        if parsed is None or len(raw) != 10 or not 1900 <= parsed.year <= 2199:
            self.error(name, _("Enter a date as YYYY-MM-DD."))
            return None
        return parsed.isoformat()

    def choice(self, name, allowed):
        raw = self.text(name)
        if not raw:
            return None
        if raw not in allowed:
            self.error(name, _("Choose one of the options."))
            return None
        return raw

    def yes_no(self, name):
        value = self.choice(name, {"yes", "no"})
        return None if value is None else value == "yes"

    def required(self, name, value, message=None):
        if value is None and name not in self.errors:
            self.error(name, message or _("Required with the other values of this item."))
        return value

    def present(self, *names):
        return any(self.text(n) for n in names)


def clean_text(value):
    """Text as PostgreSQL can store it (no NUL) and a person can read it."""
    return "".join(ch for ch in value if ch >= " " or ch in "\t\n")


def _yn(value):
    return "" if value is None else ("yes" if value else "no")


def _s(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def _get(obj, *keys):
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# (id of a lazy label, language) -> (the label, its translation). The label is kept with
# its translation, so its id stays its own; labels are the vocabulary's and the layout's
# constants (a few hundred), the bound only a guard.
_TRANSLATED = {}
_TRANSLATED_MAX = 20_000


def _translated(label, language):
    """A label as text, translated once per language: a page draws the same vocabulary
    (BVAS items, yes/no, group labels) in ~500 options and ~150 inputs, and a lazy
    label is translated again each time it is printed."""
    if type(label) is str:
        return label
    key = (id(label), language)
    found = _TRANSLATED.get(key)
    if found is None:
        if len(_TRANSLATED) >= _TRANSLATED_MAX:
            _TRANSLATED.clear()
        found = _TRANSLATED[key] = (label, str(label))
    return found[1]


def _select(name, label, options, value, *, size="s", blank=True):
    language = get_language()
    opts = ([("", "—")] if blank else []) + [
        (str(v), _translated(lbl, language)) for v, lbl in options
    ]
    return Input(name, "select", label, _s(value), opts, size=size)


def _num(name, label, value, *, size="s", step="any", low=None, high=None):
    attrs = {"step": step, "inputmode": "decimal"}
    if low is not None:
        attrs["min"] = low
    if high is not None:
        attrs["max"] = high
    return Input(name, "number", label, _s(value), attrs=attrs, size=size)


def _date_input(name, label, value):
    return Input(name, "date", label, _s(value), size="m")


# --- Group kinds --------------------------------------------------------------------------


@dataclass
class Group:
    path: str
    kind: str
    label: object
    rules: tuple = ()
    help: object = ""
    options: list = field(default_factory=list)
    unit: str = ""
    low: object = None
    high: object = None
    integer: bool = False
    analyte: str = ""
    aliases: tuple = ()  # other facts paths whose missing items point here
    calc: bool = False  # shows a computed score

    @property
    def anchor(self):
        return anchor_id(self.path)

    # Each kind: lines(value, rows) -> [Line]; parse(reader) -> value or None.
    def lines(self, value, rows=0):
        lines = getattr(self, f"_lines_{self.kind}")(value, rows)
        # In a grid (muscles, categories, domains) the column labels show once.
        grid = [line for line in lines if line.cls == "grid"]
        for line in grid[1:]:
            line.cls = "grid nolabel"
        # The vocabulary's labels as text, each translated once per language.
        language = get_language()
        for line in lines:
            line.caption = _translated(line.caption, language)
            for i in line.inputs:
                i.label = _translated(i.label, language)
        return lines

    def parse(self, reader):
        return getattr(self, f"_parse_{self.kind}")(reader)

    def row_count(self, value, data_rows=0):
        if self.kind not in LIST_KINDS:
            return 0
        have = len(value) if isinstance(value, list) else 0
        return min(MAX_ROWS, max(have + 1, data_rows, 2))

    # -- read-only (from the patient record)
    def _lines_readonly(self, value, rows):
        shown = value if value is not None else ""
        if self.path == "patient.sex":
            shown = {"female": _("Female"), "male": _("Male")}.get(value, "")
        return [Line("", [Input(self.path, "readonly", self.label, shown)])]

    def _parse_readonly(self, reader):
        return None  # never from the form: the patient record is the source

    # -- yes / no / unknown
    def _lines_tri(self, value, rows):
        return [Line("", [_select(self.path, self.label, YES_NO, _yn(value))], "solo")]

    def _parse_tri(self, r):
        return r.yes_no(self.path)

    def _lines_date(self, value, rows):
        return [Line("", [_date_input(self.path, self.label, value)], "solo")]

    def _parse_date(self, r):
        return r.date(self.path)

    def _lines_number(self, value, rows):
        step = "1" if self.integer else "any"
        return [
            Line(
                "",
                [_num(self.path, self.label, value, step=step, low=self.low, high=self.high)],
                "solo",
            )
        ]

    def _parse_number(self, r):
        return r.number(self.path, integer=self.integer, low=self.low, high=self.high)

    def _lines_choice(self, value, rows):
        return [Line("", [_select(self.path, self.label, self.options, value, size="m")], "solo")]

    def _parse_choice(self, r):
        return r.choice(self.path, {str(v) for v, _label in self.options})

    # -- {value, date}
    def _lines_obs(self, value, rows):
        v = value or {}
        step = "1" if self.integer else "any"
        return [
            Line(
                "",
                [
                    _num(
                        f"{self.path}.value",
                        self.unit or _("Value"),
                        v.get("value"),
                        step=step,
                        low=self.low,
                        high=self.high,
                    ),
                    _date_input(f"{self.path}.date", _("Date"), v.get("date")),
                ],
            )
        ]

    def _parse_obs(self, r):
        p = self.path
        value = r.number(f"{p}.value", integer=self.integer, low=self.low, high=self.high)
        when = r.date(f"{p}.date")
        if not r.present(f"{p}.value", f"{p}.date"):
            return None
        r.required(f"{p}.value", value, _("Enter the value."))
        r.required(f"{p}.date", when, _("Enter the date of this observation."))
        return {"value": value, "date": when} if value is not None and when else None

    def _lines_obs_choice(self, value, rows):
        v = value or {}
        return [
            Line(
                "",
                [
                    _select(f"{self.path}.value", self.label, self.options, v.get("value")),
                    _date_input(f"{self.path}.date", _("Date"), v.get("date")),
                ],
            )
        ]

    def _parse_obs_choice(self, r):
        p = self.path
        raw = r.choice(f"{p}.value", {str(v) for v, _label in self.options})
        when = r.date(f"{p}.date")
        if not r.present(f"{p}.value", f"{p}.date"):
            return None
        r.required(f"{p}.value", raw, _("Choose the class."))
        r.required(f"{p}.date", when, _("Enter the date of this observation."))
        return {"value": int(raw), "date": when} if raw is not None and when else None

    def _lines_obs_bool(self, value, rows):
        v = value or {}
        return [
            Line(
                "",
                [
                    _select(f"{self.path}.value", self.label, YES_NO, _yn(v.get("value"))),
                    _date_input(f"{self.path}.date", _("Date"), v.get("date")),
                ],
            )
        ]

    def _parse_obs_bool(self, r):
        p = self.path
        answer = r.yes_no(f"{p}.value")
        when = r.date(f"{p}.date")
        if not r.present(f"{p}.value", f"{p}.date"):
            return None
        r.required(f"{p}.value", answer, _("Answer yes or no."))
        r.required(f"{p}.date", when, _("Enter the date of this observation."))
        return {"value": answer, "date": when} if answer is not None and when else None

    def _lines_serology(self, value, rows):
        v = value or {}
        return [
            Line(
                "",
                [
                    _select(f"{self.path}.result", _("Result"), POS_NEG, v.get("result")),
                    _date_input(f"{self.path}.date", _("Date"), v.get("date")),
                ],
            )
        ]

    def _parse_serology(self, r):
        p = self.path
        result = r.choice(f"{p}.result", {"positive", "negative"})
        when = r.date(f"{p}.date")
        if not r.present(f"{p}.result", f"{p}.date"):
            return None
        r.required(f"{p}.result", result, _("Choose positive or negative."))
        r.required(f"{p}.date", when, _("Enter the date of the test."))
        return {"result": result, "date": when} if result and when else None

    def _lines_ana(self, value, rows):
        v = value or {}
        titres = [(t, _("negative") if t == "negative" else t) for t in ANA_TITRES]
        titre = v.get("titre")
        if titre and titre not in ANA_TITRES:
            titres.append((titre, titre))
        return [
            Line(
                "",
                [
                    _select(f"{self.path}.titre", _("Titre"), titres, titre),
                    _date_input(f"{self.path}.date", _("Date"), v.get("date")),
                ],
            )
        ]

    def _parse_ana(self, r):
        p = self.path
        titre = r.text(f"{p}.titre")
        if titre and titre != "negative":
            parts = titre.split(":")
            if len(parts) != 2 or parts[0] != "1" or not parts[1].isdigit() or parts[1][0] == "0":
                r.error(f"{p}.titre", _('Enter the titre as "1:160" or "negative".'))
                titre = None
        when = r.date(f"{p}.date")
        if not r.present(f"{p}.titre", f"{p}.date"):
            return None
        r.required(f"{p}.titre", titre or None, _("Choose the titre."))
        r.required(f"{p}.date", when, _("Enter the date of the test."))
        return {"titre": titre, "date": when} if titre and when else None

    def _lines_pregnancy(self, value, rows):
        v = value or {}
        return [
            Line(
                "",
                [
                    _select(
                        f"{self.path}.result",
                        _("Result"),
                        [("negative", _("negative")), ("positive", _("positive"))],
                        v.get("result"),
                    ),
                    _select(
                        f"{self.path}.kind",
                        _("Test"),
                        [("urine", _("urine")), ("blood", _("blood"))],
                        v.get("kind"),
                    ),
                    _date_input(f"{self.path}.date", _("Date"), v.get("date")),
                ],
            )
        ]

    def _parse_pregnancy(self, r):
        p = self.path
        result = r.choice(f"{p}.result", {"negative", "positive"})
        kind = r.choice(f"{p}.kind", {"urine", "blood"})
        when = r.date(f"{p}.date")
        if not r.present(f"{p}.result", f"{p}.kind", f"{p}.date"):
            return None
        r.required(f"{p}.result", result, _("Choose the result."))
        r.required(f"{p}.date", when, _("Enter the date of the test."))
        if not (result and when):
            return None
        out = {"result": result, "date": when}
        if kind:
            out["kind"] = kind
        return out

    def _lines_consent(self, value, rows):
        v = value or {}
        return [
            Line(
                "",
                [
                    _select(f"{self.path}.value", _("Signed"), YES_NO, _yn(v.get("value"))),
                    _date_input(f"{self.path}.date", _("Date signed"), v.get("date")),
                ],
            )
        ]

    def _parse_consent(self, r):
        p = self.path
        answer = r.yes_no(f"{p}.value")
        when = r.date(f"{p}.date")
        if not r.present(f"{p}.value", f"{p}.date"):
            return None
        r.required(f"{p}.value", answer, _("Answer yes or no."))
        if answer is None:
            return None
        out = {"value": answer}
        if when:
            out["date"] = when
        return out

    # -- a lab value: value, unit, date, lab, ULN
    def _lines_lab(self, value, rows):
        v = value or {}
        units = [(u, u) for u in ANALYTE_UNITS[self.analyte]]
        unit = v.get("unit") or units[0][0]
        if unit not in dict(units):
            units.append((unit, unit))
        inputs = [
            _num(f"{self.path}.value", _("Value"), v.get("value"), low=0, size="xs"),
            _select(f"{self.path}.unit", _("Unit"), units, unit, blank=False, size="u"),
            _date_input(f"{self.path}.date", _("Date"), v.get("date")),
            Input(f"{self.path}.lab", "text", _("Laboratory"), _s(v.get("lab")), size="s"),
        ]
        if self.analyte in ANALYTES_WITH_ULN:
            inputs.append(_num(f"{self.path}.uln", _("ULN"), v.get("uln"), size="xs"))
            # C-UNIT-1: the ULN carries its own unit (a µmol/L ULN against a mg/dL value).
            uln_unit = v.get("uln_unit") or unit
            uln_units = [(u, u) for u in ANALYTE_UNITS[self.analyte]]
            if uln_unit not in dict(uln_units):
                uln_units.append((uln_unit, uln_unit))
            inputs.append(
                _select(
                    f"{self.path}.uln_unit",
                    _("ULN unit"),
                    uln_units,
                    uln_unit,
                    blank=False,
                    size="u",
                )
            )
        return [Line("", inputs)]

    def _parse_lab(self, r):
        p = self.path
        value = r.number(f"{p}.value", low=0, high=1000000)
        unit = None
        if r.text(f"{p}.unit"):
            unit = engine_unit(self.analyte, r.text(f"{p}.unit"))
            if unit is None:
                r.error(f"{p}.unit", _("Choose one of the units."))
        when = r.date(f"{p}.date")
        lab = r.text(f"{p}.lab")
        uln = (
            r.number(f"{p}.uln", low=0, high=1000000) if self.analyte in ANALYTES_WITH_ULN else None
        )
        if uln == 0:
            r.error(f"{p}.uln", _("The ULN must be above 0."))
            uln = None
        uln_unit = None
        if uln is not None and r.text(f"{p}.uln_unit"):
            uln_unit = engine_unit(self.analyte, r.text(f"{p}.uln_unit"))
            if uln_unit is None:
                r.error(f"{p}.uln_unit", _("Choose one of the units."))
        if not r.present(f"{p}.value", f"{p}.date", f"{p}.uln"):
            return None
        r.required(f"{p}.value", value, _("Enter the value."))
        r.required(f"{p}.date", when, _("Enter the date of the result."))
        if value is None or not when or not unit:
            return None
        out = {"value": value, "unit": unit, "date": when}
        if lab:
            out["lab"] = lab
        if uln is not None:
            out["uln"] = uln
            if uln_unit is not None and uln_unit != unit:
                out["uln_unit"] = uln_unit  # C-UNIT-1; the value's unit when the same
        return out

    # -- lists of {value, date}
    def _lines_series(self, value, rows):
        items = value if isinstance(value, list) else []
        step = "1" if self.integer else "any"
        lines = []
        for i in range(rows):
            v = items[i] if i < len(items) else {}
            lines.append(
                Line(
                    f"{i + 1}.",
                    [
                        _num(
                            f"{self.path}.{i}.value",
                            self.unit or _("Value"),
                            v.get("value"),
                            step=step,
                            low=self.low,
                            high=self.high,
                        ),
                        _date_input(f"{self.path}.{i}.date", _("Date"), v.get("date")),
                    ],
                )
            )
        return lines

    def _parse_series(self, r):
        items = []
        for i in _indexes(r.data, self.path):
            p = f"{self.path}.{i}"
            value = r.number(f"{p}.value", integer=self.integer, low=self.low, high=self.high)
            when = r.date(f"{p}.date")
            if not r.present(f"{p}.value", f"{p}.date"):
                continue
            r.required(f"{p}.value", value, _("Enter the value."))
            r.required(f"{p}.date", when, _("Enter the date."))
            if value is not None and when:
                items.append({"value": value, "date": when})
        return items or None

    # -- treatment history
    def _lines_treatments(self, value, rows):
        items = value if isinstance(value, list) else []
        drugs = sorted(((d, _(DRUG_LABELS[d])) for d in ALL_DRUGS), key=lambda x: str(x[1]))
        units = [(u, u) for u in sorted(DOSE_UNITS)]
        lines = []
        for i in range(rows):
            v = items[i] if i < len(items) else {}
            dose = v.get("dose") or {}
            p = f"{self.path}.{i}"
            lines.append(
                Line(
                    f"{i + 1}.",
                    [
                        _select(f"{p}.drug", _("Drug"), drugs, v.get("drug"), size="m"),
                        Input(
                            f"{p}.name", "text", _("Name (other drug)"), _s(v.get("name")), size="s"
                        ),
                        _num(f"{p}.dose.value", _("Dose"), dose.get("value"), size="xs", low=0),
                        _select(f"{p}.dose.unit", _("Unit"), units, dose.get("unit"), size="xs"),
                        _date_input(f"{p}.start", _("Start"), v.get("start")),
                        _date_input(f"{p}.end", _("End (blank: ongoing)"), v.get("end")),
                    ],
                    "treatment",
                )
            )
        return lines

    def _parse_treatments(self, r):
        items = []
        for i in _indexes(r.data, self.path):
            p = f"{self.path}.{i}"
            names = [f"{p}.drug", f"{p}.name", f"{p}.dose.value", f"{p}.start", f"{p}.end"]
            drug = r.choice(f"{p}.drug", ALL_DRUGS)
            name = r.text(f"{p}.name")
            dose_value = r.number(f"{p}.dose.value", low=0, high=100000)
            dose_unit = r.choice(f"{p}.dose.unit", DOSE_UNITS)
            start = r.date(f"{p}.start")
            end = r.date(f"{p}.end")
            if not r.present(*names):
                continue
            r.required(f"{p}.drug", drug, _("Choose the drug."))
            r.required(f"{p}.start", start, _("Enter the start date."))
            if dose_value is not None and not dose_unit:
                r.error(f"{p}.dose.unit", _("Choose the dose unit."))
            if not (drug and start):
                continue
            item = {"drug": drug, "start": start}
            if name:
                item["name"] = name
            if dose_value is not None and dose_unit:
                item["dose"] = {"value": dose_value, "unit": dose_unit}
            if end:
                item["end"] = end
            items.append(item)
        return items or None

    # -- SLEDAI-2K checklist
    def _lines_sledai(self, value, rows):
        v = value or {}
        present = set(v.get("descriptors") or [])
        boxes = [
            Input(
                f"{self.path}.descriptors",
                "checkbox",
                f"{SLEDAI_LABELS[d]} ({w})",
                d,
                checked=d in present,
            )
            for d, w in SLEDAI_2K_WEIGHTS.items()
        ]
        return [
            Line("", [_date_input(f"{self.path}.date", _("Date assessed"), v.get("date"))]),
            Line("", boxes, "checklist"),
        ]

    def _parse_sledai(self, r):
        p = self.path
        descriptors = [d for d in r.many(f"{p}.descriptors") if d in SLEDAI_2K_WEIGHTS]
        when = r.date(f"{p}.date")
        if not descriptors and not r.present(f"{p}.date"):
            return None
        r.required(f"{p}.date", when, _("Enter the date of the SLEDAI-2K assessment."))
        if not when:
            return None
        ordered = [d for d in SLEDAI_2K_WEIGHTS if d in set(descriptors)]
        return {"date": when, "descriptors": ordered}

    # -- BVAS v3 assessments
    def _lines_bvas(self, value, rows):
        items = value if isinstance(value, list) else []
        options = [
            (item, BVAS_ITEM_LABELS[item]) for _system, names in BVAS_ITEMS for item in names
        ]
        lines = []
        for i in range(rows):
            v = items[i] if i < len(items) else {}
            p = f"{self.path}.{i}"
            chosen = v.get("items") or []
            lines.append(
                Line(
                    _("Assessment %(n)s") % {"n": i + 1},
                    [_date_input(f"{p}.date", _("Date"), v.get("date"))],
                    "subhead",
                )
            )
            for j in range(min(MAX_ROWS, max(len(chosen) + 2, 3))):
                item = chosen[j] if j < len(chosen) else {}
                opts = list(options)
                if item.get("item") and item["item"] not in BVAS_ITEM_LABELS:
                    opts.append((item["item"], item["item"]))
                q = f"{p}.items.{j}"
                lines.append(
                    Line(
                        "",
                        [
                            _select(f"{q}.item", _("Item"), opts, item.get("item"), size="l"),
                            Input(
                                f"{q}.major",
                                "checkbox",
                                _("major"),
                                "1",
                                checked=bool(item.get("major")),
                            ),
                            Input(
                                f"{q}.new",
                                "checkbox",
                                _("new or worse"),
                                "1",
                                checked=bool(item.get("new")),
                            ),
                        ],
                        "bvas-item",
                    )
                )
        return lines

    def _parse_bvas(self, r):
        assessments = []
        for i in _indexes(r.data, self.path):
            p = f"{self.path}.{i}"
            when = r.date(f"{p}.date")
            items = []
            for j in _indexes(r.data, f"{p}.items"):
                q = f"{p}.items.{j}"
                name = r.text(f"{q}.item")
                if not name:
                    continue
                ticked = bool(r.text(f"{q}.major"))
                if ticked and name in BVAS_NOT_MAJOR:
                    # Said aloud rather than dropped: the instrument decides, not the tick.
                    r.error(
                        f"{q}.major",
                        _("%(item)s is not a major item in BVAS v3.")
                        % {"item": BVAS_ITEM_LABELS.get(name, name)},
                    )
                # A major item stays major whatever the tick (A-AAV-2, A-AAV-4).
                items.append(
                    {
                        "item": name,
                        "major": bvas_item_is_major(name, ticked),
                        "new": bool(r.text(f"{q}.new")),
                    }
                )
            if not items and not r.present(f"{p}.date"):
                continue
            r.required(f"{p}.date", when, _("Enter the date of this assessment."))
            if when:
                assessments.append({"date": when, "items": items})
        return assessments or None

    # -- AAV response to treatment
    def _lines_aav_response(self, value, rows):
        v = value or {}
        gc = v.get("glucocorticoid") or {}
        dose = gc.get("dose") or {}
        drugs = [(d, _(DRUG_LABELS[d])) for d in sorted(GLUCOCORTICOIDS)]
        p = self.path
        return [
            Line(
                "",
                [
                    _select(
                        f"{p}.achieved", _("Response achieved"), YES_NO, _yn(v.get("achieved"))
                    ),
                    _date_input(f"{p}.date", _("Date of response"), v.get("date")),
                    _num(
                        f"{p}.bvas",
                        _("BVAS then"),
                        v.get("bvas"),
                        step="1",
                        size="xs",
                        low=0,
                        high=63,
                    ),
                ],
            ),
            Line(
                _("Glucocorticoid then"),
                [
                    _select(f"{p}.glucocorticoid.drug", _("Drug"), drugs, gc.get("drug"), size="m"),
                    _num(
                        f"{p}.glucocorticoid.dose.value",
                        _("mg/day"),
                        dose.get("value"),
                        size="xs",
                        low=0,
                    ),
                ],
            ),
        ]

    def _parse_aav_response(self, r):
        p = self.path
        achieved = r.yes_no(f"{p}.achieved")
        when = r.date(f"{p}.date")
        bvas = r.number(f"{p}.bvas", integer=True, low=0, high=63)
        drug = r.choice(f"{p}.glucocorticoid.drug", GLUCOCORTICOIDS)
        dose = r.number(f"{p}.glucocorticoid.dose.value", low=0, high=100000)
        names = [f"{p}.achieved", f"{p}.date", f"{p}.bvas", f"{p}.glucocorticoid.drug"]
        if not r.present(*names, f"{p}.glucocorticoid.dose.value"):
            return None
        r.required(f"{p}.achieved", achieved, _("Answer yes or no."))
        if (drug is None) != (dose is None):
            missing = (
                f"{p}.glucocorticoid.drug" if drug is None else f"{p}.glucocorticoid.dose.value"
            )
            r.error(missing, _("Give both the glucocorticoid and its daily dose."))
        if achieved is None:
            return None
        out = {"achieved": achieved}
        if when:
            out["date"] = when
        if bvas is not None:
            out["bvas"] = bvas
        if drug and dose is not None:
            out["glucocorticoid"] = {"drug": drug, "dose": {"value": dose, "unit": "mg/day"}}
        return out

    # -- MMT-8
    def _lines_mmt8(self, value, rows):
        v = value or {}
        scores = v.get("scores") or {}
        p = self.path
        grade = {"step": "1", "min": 0, "max": 10, "inputmode": "numeric"}
        lines = [
            Line(
                "",
                [
                    _date_input(f"{p}.date", _("Date assessed"), v.get("date")),
                    _num(
                        f"{p}.total",
                        _("Total (if the groups are not scored)"),
                        None if scores else v.get("total"),
                        step="1",
                        size="xs",
                        low=0,
                        high=150,
                    ),
                ],
            ),
            Line(
                MMT8_LABELS["neck_flexors"],
                [
                    Input(
                        f"{p}.scores.neck_flexors",
                        "number",
                        _("axial"),
                        _s(scores.get("neck_flexors")),
                        attrs=grade,
                        size="xs",
                    )
                ],
                "grid",
            ),
        ]
        for group in MMT8_BILATERAL:
            sides = scores.get(group) or {}
            lines.append(
                Line(
                    MMT8_LABELS[group],
                    [
                        Input(
                            f"{p}.scores.{group}.left",
                            "number",
                            _("left"),
                            _s(sides.get("left")),
                            attrs=grade,
                            size="xs",
                        ),
                        Input(
                            f"{p}.scores.{group}.right",
                            "number",
                            _("right"),
                            _s(sides.get("right")),
                            attrs=grade,
                            size="xs",
                        ),
                    ],
                    "grid",
                )
            )
        return lines

    def _parse_mmt8(self, r):
        p = self.path
        when = r.date(f"{p}.date")
        total = r.number(f"{p}.total", integer=True, low=0, high=150)
        score_names = [f"{p}.scores.neck_flexors"] + [
            f"{p}.scores.{g}.{side}" for g in MMT8_BILATERAL for side in ("left", "right")
        ]
        grades = {n: r.number(n, integer=True, low=0, high=10) for n in score_names}
        any_score = r.present(*score_names)
        if not any_score and total is None and not r.present(f"{p}.date", f"{p}.total"):
            return None
        r.required(f"{p}.date", when, _("Enter the date of the MMT-8 assessment."))
        out = {"date": when} if when else None
        if any_score:
            blank = [n for n in score_names if grades[n] is None and n not in r.errors]
            for n in blank:
                r.error(n, _("Score every muscle group (0–10), or clear them and enter the total."))
            if blank or any(n in r.errors for n in score_names):
                return None
            scores = {"neck_flexors": grades[score_names[0]]}
            for g in MMT8_BILATERAL:
                scores[g] = {
                    "left": grades[f"{p}.scores.{g}.left"],
                    "right": grades[f"{p}.scores.{g}.right"],
                }
            if out is None:
                return None
            out["scores"] = scores
            out["total"] = mmt8_total(scores)
            return out
        if out is None:
            return None
        if total is None:
            r.error(f"{p}.total", _("Enter the total or score the muscle groups."))
            return None
        out["total"] = total
        return out

    # -- HAQ-DI
    def _lines_haq(self, value, rows):
        v = value or {}
        categories = v.get("categories") or {}
        aided = set(v.get("aids_or_help") or [])
        p = self.path
        levels = [(str(n), str(n)) for n in range(4)]
        lines = [
            Line(
                "",
                [
                    _date_input(f"{p}.date", _("Date assessed"), v.get("date")),
                    _num(
                        f"{p}.value",
                        _("HAQ-DI (if the categories are not scored)"),
                        None if categories else v.get("value"),
                        size="xs",
                        low=0,
                        high=3,
                    ),
                ],
            )
        ]
        for c in HAQ_DI_CATEGORIES:
            lines.append(
                Line(
                    HAQ_LABELS[c],
                    [
                        _select(
                            f"{p}.categories.{c}",
                            _("score 0–3"),
                            levels,
                            categories.get(c),
                            size="xs",
                        ),
                        Input(
                            f"{p}.aids_or_help", "checkbox", _("aid or help"), c, checked=c in aided
                        ),
                    ],
                    "grid",
                )
            )
        return lines

    def _parse_haq(self, r):
        p = self.path
        when = r.date(f"{p}.date")
        value = r.number(f"{p}.value", low=0, high=3)
        categories = {}
        for c in HAQ_DI_CATEGORIES:
            raw = r.choice(f"{p}.categories.{c}", {"0", "1", "2", "3"})
            if raw is not None:
                categories[c] = int(raw)
        aided = [c for c in HAQ_DI_CATEGORIES if c in set(r.many(f"{p}.aids_or_help"))]
        if (
            not categories
            and value is None
            and not aided
            and not r.present(f"{p}.date", f"{p}.value")
        ):
            return None
        r.required(f"{p}.date", when, _("Enter the date of the HAQ-DI."))
        if categories and value is not None:
            r.error(f"{p}.value", _("Give the category scores or the HAQ-DI value, not both."))
            return None
        if categories and len(categories) < 6:
            r.error(p, _("Score at least 6 of the 8 categories."))
            return None
        if not when:
            return None
        if categories:
            out = {"date": when, "categories": categories}
            if aided:
                out["aids_or_help"] = aided
            return out
        if value is None:
            r.error(f"{p}.value", _("Score the categories or enter the HAQ-DI value."))
            return None
        return {"date": when, "value": value}

    # -- ESSDAI domains
    def _lines_essdai(self, value, rows):
        v = value or {}
        domains = v.get("domains") or {}
        p = self.path
        lines = [Line("", [_date_input(f"{p}.date", _("Date assessed"), v.get("date"))])]
        for d, (weight, allowed) in ESSDAI_DOMAINS.items():
            levels = [(str(n), ESSDAI_LEVELS[n]) for n in sorted(allowed)]
            lines.append(
                Line(
                    f"{ESSDAI_LABELS[d]} (×{weight})",
                    [_select(f"{p}.domains.{d}", _("activity"), levels, domains.get(d), size="s")],
                    "grid",
                )
            )
        return lines

    def _parse_essdai(self, r):
        p = self.path
        when = r.date(f"{p}.date")
        domains = {}
        for d, (_weight, allowed) in ESSDAI_DOMAINS.items():
            raw = r.choice(f"{p}.domains.{d}", {str(n) for n in allowed})
            if raw is not None:
                domains[d] = int(raw)
        if not domains and not r.present(f"{p}.date"):
            return None
        r.required(f"{p}.date", when, _("Enter the date of the ESSDAI."))
        return {"date": when, "domains": domains} if when else None


LIST_KINDS = {"series", "treatments", "bvas"}
MULTI = (".descriptors", ".aids_or_help")  # checkbox groups: one name, several values


def _indexes(data, prefix):
    """The list indexes present in the POST data under ``prefix.<n>.``."""
    found = set()
    start = prefix + "."
    for key in data.keys():
        if key.startswith(start):
            head = key[len(start) :].split(".", 1)[0]
            if head.isdigit() and int(head) < MAX_ROWS:
                found.add(int(head))
    return sorted(found)
