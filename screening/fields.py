"""The screening form as a whole: a POST becomes a facts document (with messages for
what did not read), a facts document becomes the sections and inputs to draw, and two
people's saves of one draft merge item by item.

Parsing never raises: a value that cannot be read becomes a specific message on its
input, its group is left out of the document, and its raw text is kept so the page can
show it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from screening.engine import (
    CalculatorError,
    bvas_active,
    bvas_counts,
    essdai,
    haq_di,
    sledai_2k,
    validate_facts,
)
from screening.engine.calculators import BvasItem

from .kinds import (  # noqa: F401  (anchor_id, clean_text, LIST_KINDS, MULTI: used by views)
    LIST_KINDS,
    MAX_ROWS,
    MAX_TEXT,
    MULTI,
    Group,
    Input,
    Line,
    Reader,
    _s,
    anchor_id,
    clean_text,
)
from .layout import group_for_path, groups_for, label_for_path, sections_for  # noqa: F401


def get_path(doc, path):
    obj = doc
    for key in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return None
    return obj


def set_path(doc, path, value):
    keys = path.split(".")
    obj = doc
    for key in keys[:-1]:
        if not isinstance(obj.get(key), dict):
            obj[key] = {}
        obj = obj[key]
    if value is None:
        obj.pop(keys[-1], None)
    else:
        obj[keys[-1]] = value


def _prune(doc):
    """Drop empty objects the form left behind (an empty "labs": {} is fine, but tidy)."""
    for key in list(doc):
        if isinstance(doc[key], dict) and key != "meta":
            _prune(doc[key])
            if not doc[key]:
                del doc[key]
    return doc


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def form_view(facts):
    """The facts as the form shows them: no meta, ULNs filled from the reference ranges
    left out (the form leaves them blank so they are filled again)."""
    doc = {k: _copy(v) for k, v in (facts or {}).items() if k != "meta"}
    auto = ((facts or {}).get("meta") or {}).get("uln_sources") or {}
    for path, used in auto.items():
        lab = get_path(doc, path)
        if isinstance(lab, dict) and lab.get("uln") == used.get("uln"):
            lab.pop("uln", None)
    return doc


def merge_concurrent(indication, *, base, mine, theirs):
    """Someone else saved the draft after this page was drawn (``base``): keep their
    items that this page did not change, take this page's changed items."""
    out = _copy(mine)
    base_view, theirs_view = form_view(base), form_view(theirs)
    for g in groups_for(indication):
        if g.kind == "readonly":
            continue
        if get_path(mine, g.path) == get_path(base_view, g.path):
            set_path(out, g.path, _copy(get_path(theirs_view, g.path)))
    if theirs.get("meta"):
        out["meta"] = theirs["meta"]
    return _prune(out)


# --- A whole form ------------------------------------------------------------------------


@dataclass
class Parsed:
    doc: dict
    errors: dict  # input name or group path -> [messages]
    invalid_inputs: dict  # input name -> raw text of groups left out


def _group_inputs(data, group):
    """Raw POST values of a group's inputs (to keep what was typed)."""
    prefix = group.path
    out = {}
    for key in data.keys():
        if key == prefix or key.startswith(prefix + "."):
            values = data.getlist(key) if hasattr(data, "getlist") else [data.get(key)]
            values = [clean_text(v)[:MAX_TEXT] for v in values if isinstance(v, str)]
            out[key] = values if key.endswith(MULTI) else (values[0] if values else "")
    return out


def _kept_message(value):
    shown = value.get("value") if isinstance(value, dict) else None
    if shown is not None and not isinstance(shown, (dict, list)):
        return _("Not saved: the draft keeps the previous value, %(value)s.") % {"value": _s(shown)}
    return _("Not saved: the draft keeps the previous entry.")


def parse_form(data, *, indication, base_doc):
    """Rebuild the facts document from a POST of the whole form.

    ``base_doc`` supplies what the form does not edit (indication, patient.date_of_birth
    and sex from the record, meta). Groups whose inputs do not read, or that the engine
    refuses, are left out; their raw inputs and messages are returned.
    """
    doc = {
        "screening_date": base_doc.get("screening_date"),
        "indication": indication,
    }
    if base_doc.get("meta"):
        doc["meta"] = base_doc["meta"]
    for path in ("patient.date_of_birth", "patient.sex"):
        set_path(doc, path, get_path(base_doc, path))
    errors: dict[str, list[str]] = {}
    invalid: dict[str, object] = {}
    groups = [g for g in groups_for(indication) if g.kind != "readonly"]
    for g in groups:
        reader = Reader(data)
        value = g.parse(reader)
        if g.path == "screening_date" and value is None and not reader.errors:
            reader.error(g.path, _("Enter the screening date."))
        if reader.errors:
            errors.update(reader.errors)
            invalid.update(_group_inputs(data, g))
            if g.path == "screening_date":
                continue  # keep the stored date: the document needs one
            # Issue 16 (item 8): what was typed did not read, so the draft keeps what it
            # held (a prefilled weight is never dropped silently), and says so.
            value = _copy(get_path(base_doc, g.path))
            if value is not None:
                errors.setdefault(g.path, []).append(_kept_message(value))
        set_path(doc, g.path, value)
    _prune(doc)
    # The engine's own checks: a refused item is left out and its message shown on it.
    restored = set()
    for _round in range(5):
        engine_errors = validate_facts(doc)
        if not engine_errors:
            break
        for e in engine_errors:
            g = group_for_path(indication, e.path) if e.path else None
            key = e.path or "screening_date"
            message = _("Not accepted: %(message)s") % {"message": e.message}
            errors.setdefault(key, []).append(message)
            if g is None or g.path == "screening_date":
                continue
            invalid.update(_group_inputs(data, g))
            # The draft keeps what it held (issue 16), unless that is refused too.
            kept = _copy(get_path(base_doc, g.path))
            if g.path in restored or kept == get_path(doc, g.path):
                kept = None
            restored.add(g.path)
            if kept is not None:
                errors[key].append(_kept_message(kept))
            set_path(doc, g.path, kept)
        _prune(doc)
    return Parsed(doc, errors, invalid)


# --- Drawing the form -----------------------------------------------------------------------


@dataclass
class Bound:
    group: Group
    lines: list
    errors: list  # (input label or "", message)
    source: dict | None  # where a prefilled value came from
    stale: str  # "", "stale" or "future"
    observed_on: str
    calc: list  # computed score lines
    skipped: list = field(default_factory=list)  # newer record values not usable (prefill)

    @property
    def anchor(self):
        return self.group.anchor


def bind(
    indication,
    facts,
    *,
    invalid_inputs=None,
    errors=None,
    window_days=28,
    extra_rows=None,
    inputs=True,
):
    """Sections with their bound groups, ready for the template. ``inputs=False`` when
    only the groups' statuses are drawn (the live re-evaluation): a group's inputs are
    then built only when it has messages (they are named by their inputs' labels)."""
    invalid_inputs = invalid_inputs or {}
    errors = errors or {}
    extra_rows = extra_rows or {}
    meta = facts.get("meta") or {}
    sources = meta.get("sources") or {}
    uln_sources = meta.get("uln_sources") or {}
    prefill_skipped = meta.get("prefill_skipped") or {}
    screening_date = _iso(facts.get("screening_date"))
    out = []
    for section in sections_for(indication):
        bound = []
        for g in section.groups:
            value = get_path(facts, g.path)
            raw_rows = 0
            own_raw = {
                k: v for k, v in invalid_inputs.items() if k == g.path or k.startswith(g.path + ".")
            }
            if own_raw:
                raw_rows = max((_row_of(k, g.path) for k in own_raw), default=-1) + 1
            lines = []
            if inputs or any(k == g.path or k.startswith(g.path + ".") for k in errors):
                rows = g.row_count(value, raw_rows) + extra_rows.get(g.path, 0)
                lines = g.lines(value, min(rows, MAX_ROWS))
                _overlay(lines, own_raw, errors)
            group_errors = [(i.label, m) for line in lines for i in line.inputs for m in i.errors]
            for k, ms in errors.items():
                if k == g.path or (k.startswith(g.path + ".") and not _has_input(lines, k)):
                    group_errors.extend(("", m) for m in ms)
            source = sources.get(g.path)
            if source is not None and not _matches_source(value, source):
                source = None
            if source is not None:
                source = {
                    **source,
                    "when": (source.get("observed_at") or "")[:16].replace("T", " "),
                }
            auto_uln = uln_sources.get(g.path)
            if g.kind == "lab" and auto_uln and isinstance(value, dict):
                if value.get("uln") == auto_uln.get("uln") and g.path + ".uln" not in own_raw:
                    # Filled from the reference range: left blank so it is filled again
                    # if the lab or the unit changes; the range is named below.
                    for i in lines[0].inputs if lines else ():
                        if i.name == g.path + ".uln":
                            i.value = ""
                            i.attrs = {**i.attrs, "placeholder": _s(auto_uln["uln"])}
                    source = dict(source or {}, uln=auto_uln)
            observed = _observed(value)
            stale = ""
            if observed and screening_date:
                if observed > screening_date:
                    stale = "future"
                elif observed < screening_date - timedelta(days=window_days):
                    stale = "stale"
            bound.append(
                Bound(
                    g,
                    lines,
                    group_errors,
                    source,
                    stale,
                    observed.isoformat() if observed else "",
                    calc_lines(g, value) if g.calc else [],
                    list(prefill_skipped.get(g.path) or []),
                )
            )
        out.append((section, bound))
    return out


def _row_of(key, path):
    rest = key[len(path) + 1 :].split(".", 1)[0]
    return int(rest) if rest.isdigit() else -1


def _has_input(lines, name):
    return any(i.name == name and i.widget != "checkbox" for line in lines for i in line.inputs)


def _overlay(lines, raw, errors):
    for line in lines:
        for i in line.inputs:
            if raw and i.widget == "checkbox":
                # The group was kept as typed: a box is ticked when the POST had it.
                typed = raw.get(i.name, [])
                i.checked = i.value in (typed if isinstance(typed, list) else [typed])
            elif i.name in raw:
                typed = raw[i.name]
                i.value = typed if isinstance(typed, str) else (typed[0] if typed else "")
            if i.name in errors and i.widget != "checkbox":
                i.errors = list(errors[i.name])


def _matches_source(value, source):
    if not isinstance(value, dict):
        return False
    return _s(value.get("value")) == source.get("value") and value.get("date") == source.get("date")


def _iso(value):
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _observed(value):
    if isinstance(value, dict) and isinstance(value.get("date"), str):
        return _iso(value["date"])
    return None


# --- Calculators (the engine's, server-side) ------------------------------------------------


def calc_lines(group, value):
    """The computed score of a calculator group, as short lines of text."""
    try:
        if group.kind == "sledai" and value:
            score = sledai_2k(value.get("descriptors") or [])
            lines = [
                _("SLEDAI-2K total %(total)s · clinical score %(clinical)s")
                % {"total": score.total, "clinical": score.clinical}
            ]
            if score.serology_scored:
                lines.append(
                    _("The clinical score leaves out low complement and increased DNA binding.")
                )
            return lines
        if group.kind == "bvas" and value:
            lines = []
            for a in value:
                counts = bvas_counts(
                    BvasItem(i["item"], bool(i["major"]), bool(i["new"]))
                    for i in a.get("items") or []
                )
                active = bvas_active(counts)
                lines.append(
                    _(
                        "%(date)s: %(major)s major, %(other)s other items (%(new)s new or worse) — %(state)s"
                    )
                    % {
                        "date": a.get("date"),
                        "major": counts.major,
                        "other": counts.other,
                        "new": counts.new,
                        "state": _("active (≥ 1 major or ≥ 3 other)")
                        if active
                        else _("not active"),
                    }
                )
            return lines
        if group.kind == "mmt8" and value and value.get("total") is not None:
            return [_("MMT-8 total %(total)s of 150") % {"total": value["total"]}]
        if group.kind == "haq" and value:
            if value.get("categories"):
                score = haq_di(value["categories"], value.get("aids_or_help") or [])
                shown = format(score.quantize(Decimal("0.001")).normalize(), "f")
                return [
                    _("HAQ-DI %(value)s (mean of %(n)s categories)")
                    % {"value": shown, "n": len(value["categories"])}
                ]
            if value.get("value") is not None:
                return [_("HAQ-DI %(value)s") % {"value": _s(value["value"])}]
        if group.kind == "essdai" and value:
            score = essdai(value.get("domains") or {})
            lines = [_("ESSDAI %(total)s") % {"total": score.total}]
            if score.missing_domains:
                lines.append(
                    _("%(count)s domains not scored: the total is a minimum.")
                    % {"count": len(score.missing_domains)}
                )
            return lines
    except (CalculatorError, KeyError, TypeError, ValueError):
        return [_("The score cannot be computed from these values.")]
    return []
