"""The episode timeline as server-rendered SVG geometry (no JavaScript library).

Three panels, because minutes, days and months do not share one axis:

1. the infusion day in hours: cold-chain window from preparation (8 h warning, hard
   limit), dexamethasone, the room-temperature window, the rate phases (actual start and
   end when recorded);
2. days −1 … ~14: the antiplatelet course from day −1 (B-AP-1), the infusion, the 48 h
   cyclophosphamide hold (B-CYC-1) and cyclophosphamide orders;
3. months 0–12: the follow-ups (B-FU-1..4, B-REP-1).

`build(episode, orders)` returns plain numbers and labels; `_timeline.svg` draws them.
Every time label is written in the ward's time zone.
"""

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import OrderKind, OrderStatus
from .protocol import ward_zone

# Short row labels for the follow-up panel (the full titles are in the follow-up table).
FOLLOW_UP_LABELS = {
    "B-FU-1": gettext_lazy("Efficacy (B-FU-1)"),
    "B-FU-2": gettext_lazy("Laboratory (B-FU-2)"),
    "B-FU-3": gettext_lazy("Biopsy, imaging (B-FU-3)"),
    "B-FU-4": gettext_lazy("Maintenance (B-FU-4)"),
    "B-REP-1": gettext_lazy("Relapse watch (B-REP-1)"),
}
WIDTH = 960
MAX_TICKS = 60
LEFT = 170  # room for row labels
RIGHT = 16
PLOT = WIDTH - LEFT - RIGHT
ROW = 26
PANEL_GAP = 34


class Axis:
    def __init__(self, start, end):
        self.start, self.end = start, end
        self.span = (end - start).total_seconds() or 1.0

    def x(self, value):
        frac = (value - self.start).total_seconds() / self.span
        return round(LEFT + max(0.0, min(1.0, frac)) * PLOT, 1)

    def width(self, a, b):
        return round(max(self.x(b) - self.x(a), 2.0), 1)


def _local(value):
    return timezone.localtime(value, ward_zone())


def _hm(value):
    return _local(value).strftime("%H:%M")


def _day_start(day: date):
    return datetime.combine(day, datetime.min.time(), tzinfo=ward_zone())


def _bar(axis, a, b, cls, text="", title=""):
    return {
        "kind": "bar",
        "x": axis.x(a),
        "w": axis.width(a, b),
        "cls": cls,
        "text": text,
        "title": title,
    }


def _mark(axis, at, cls, text="", title=""):
    return {"kind": "mark", "x": axis.x(at), "cls": cls, "text": text, "title": title}


def _panel(title, axis, ticks, rows):
    return {"title": title, "ticks": ticks, "rows": rows, "axis": axis}


def _bounded_step(span_seconds, step_seconds):
    """A tick step giving at most MAX_TICKS ticks: a time stored out of range (issue 16,
    year 1 read clamped by core.stored_time) must not make an axis of millions of ticks."""
    return max(step_seconds, math.ceil(span_seconds / MAX_TICKS))


def _hour_ticks(axis):
    zone = ward_zone()
    first = _local(axis.start).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hours = axis.span / 3600
    step = _bounded_step(axis.span, 3600 if hours <= 14 else 7200) / 3600
    ticks = []
    t = first
    while t < axis.end:
        ticks.append({"x": axis.x(t), "label": t.astimezone(zone).strftime("%H:%M")})
        t += timedelta(hours=step)
    return ticks


def _minute_ticks(axis):
    zone = ward_zone()
    step = timedelta(seconds=_bounded_step(axis.span, 600))
    first = _local(axis.start).replace(second=0, microsecond=0)
    first += timedelta(minutes=(10 - first.minute % 10) % 10)
    ticks = []
    t = first
    while t < axis.end:
        ticks.append({"x": axis.x(t), "label": t.astimezone(zone).strftime("%H:%M")})
        t += step
    return ticks


def _cold_chain(episode, start, end):
    """Hours: preparation → 8 h warning → hard limit, with the infusion inside it."""
    limit = episode.cold_chain_must_complete_by
    axis = Axis(
        min(episode.preparation_time, start) - timedelta(minutes=20),
        max(limit, end) + timedelta(minutes=20),
    )
    rows = [
        {
            "label": _("Cold chain (B-ADM-1)"),
            "items": [
                _bar(
                    axis,
                    episode.preparation_time,
                    episode.cold_chain_late_from,
                    "ok",
                    _("prepared %(t)s") % {"t": _hm(episode.preparation_time)},
                ),
                _bar(axis, episode.cold_chain_late_from, limit, "late", _("late")),
                _mark(axis, limit, "limit", _("limit %(t)s") % {"t": _hm(limit)}),
            ],
        },
        {
            "label": _("MSC infusion"),
            "items": [
                _bar(
                    axis,
                    start,
                    end,
                    "phase1",
                    "",
                    _("%(a)s–%(b)s") % {"a": _hm(start), "b": _hm(end)},
                ),
                _mark(axis, end, "end", f"{_hm(start)}–{_hm(end)}"),
            ],
        },
    ]
    title = _("Cold chain, %(day)s") % {"day": _local(start).strftime("%Y-%m-%d")}
    return _panel(title, axis, _hour_ticks(axis), rows)


def _infusion(episode, msc, dexa, start, end):
    """Minutes: dexamethasone, room temperature, the rate phases, start and end."""
    given = [a.given_at for a in dexa.administrations.all()] if dexa is not None else []
    dexa_at = given[0] if given else (dexa.scheduled_at if dexa is not None else None)
    fridge = episode.out_of_fridge_at or start - timedelta(minutes=20)
    first = min(t for t in (dexa_at, fridge, start) if t is not None)
    axis = Axis(first - timedelta(minutes=5), end + timedelta(minutes=10))
    rows = []
    if dexa_at is not None:
        rows.append(
            {
                "label": _("Dexamethasone (B-PREMED-1)"),
                "items": [
                    _mark(
                        axis,
                        dexa_at,
                        "given" if given else "premed",
                        (_("given %(t)s") if given else "%(t)s") % {"t": _hm(dexa_at)},
                    )
                ],
            }
        )
    if episode.out_of_fridge_at:
        room = _bar(
            axis,
            episode.out_of_fridge_at,
            start,
            "room",
            _("out %(t)s") % {"t": _hm(episode.out_of_fridge_at)},
        )
    else:
        room = _bar(
            axis,
            start - timedelta(minutes=20),
            start - timedelta(minutes=10),
            "room",
            _("take out %(a)s–%(b)s")
            % {"a": _hm(start - timedelta(minutes=20)), "b": _hm(start - timedelta(minutes=10))},
        )
    rows.append({"label": _("Room temperature (B-ADM-2)"), "items": [room]})
    phase_items = _actual_phases(axis, episode, end) if episode.started_at else []
    for phase in msc.rate_plan if msc and not episode.started_at else []:
        a = start + timedelta(minutes=float(phase["start_offset_min"]))
        b = a + timedelta(minutes=float(phase["duration_min"]))
        phase_items.append(
            _bar(
                axis,
                a,
                b,
                f"phase{phase['number']}",
                _("%(rate)s mL/min")
                % {"rate": f"{Decimal(phase['rate_ml_per_min']).normalize():f}"},
                _("Phase %(n)s: %(rate)s mL/min from %(t)s")
                % {"n": phase["number"], "rate": phase["rate_ml_per_min"], "t": _hm(a)},
            )
        )
    rows.append({"label": _("Infusion phases (B-ADM-4)"), "items": phase_items})
    marks = [
        _mark(
            axis,
            start,
            "start",
            (_("started %(t)s") if episode.started_at else _("start %(t)s")) % {"t": _hm(start)},
        )
    ]
    if end != start:
        marks.append(
            _mark(
                axis,
                end,
                "end",
                (_("ended %(t)s") if episode.ended_at else _("end %(t)s")) % {"t": _hm(end)},
            )
        )
    rows.append({"label": _("Start and end"), "items": marks})
    return _panel(_("The infusion"), axis, _minute_ticks(axis), rows)


def _actual_phases(axis, episode, end):
    """Once started, the phases are the charted rate steps (B-ADM-4), each until the next
    step, the last one until the recorded (or expected) end: nothing after the end."""
    steps = sorted(episode.rate_steps.all(), key=lambda s: (s.at, s.pk))
    items = []
    for n, step in enumerate(steps):
        a = step.at
        b = steps[n + 1].at if n + 1 < len(steps) else end
        b = min(b, end)
        if b <= a:
            continue
        rate = f"{Decimal(step.rate_ml_per_min).normalize():f}"
        items.append(
            _bar(
                axis,
                a,
                b,
                f"phase{min(n + 1, 3)}",
                _("%(rate)s mL/min") % {"rate": rate},
                _("Phase %(n)s: %(rate)s mL/min from %(t)s")
                % {"n": n + 1, "rate": rate, "t": _hm(a)},
            )
        )
    return items


def _days(episode, ap, cyc_orders):
    day0 = _local(episode.infusion_start).date()
    last = day0 + timedelta(days=8)
    if ap is not None and ap.last_day:
        last = max(last, ap.last_day + timedelta(days=1))
    hold = episode.cyc_hold_until
    if hold:
        last = max(last, _local(hold).date() + timedelta(days=1))
    for order in cyc_orders:
        if order.scheduled_at and _local(order.scheduled_at).date() <= day0 + timedelta(days=30):
            last = max(last, _local(order.scheduled_at).date() + timedelta(days=1))
    first = day0 - timedelta(
        days=2
        if any(
            o.scheduled_at and _local(o.scheduled_at).date() < day0 - timedelta(days=1)
            for o in cyc_orders
        )
        else 1
    )
    axis = Axis(_day_start(first), _day_start(last + timedelta(days=1)))
    ticks = []
    d = first
    step = _bounded_step((last - first).days, 1 if (last - first).days <= 20 else 2)
    while d <= last:
        ticks.append(
            {
                "x": axis.x(_day_start(d) + timedelta(hours=12)),
                "label": f"{(d - day0).days:+d}".replace("+0", "0"),
                "sub": d.strftime("%m-%d"),
            }
        )
        d += timedelta(days=step)
    rows = []
    if ap is not None and ap.first_day:
        rows.append(
            {
                "label": _("Antiplatelet (B-AP-1)"),
                "items": [
                    _bar(
                        axis,
                        _day_start(ap.first_day),
                        _day_start(ap.last_day + timedelta(days=1)),
                        "ap",
                        _("%(from)s to %(to)s")
                        % {
                            "from": ap.first_day.strftime("%m-%d"),
                            "to": ap.last_day.strftime("%m-%d"),
                        },
                    )
                ],
            }
        )
    infusion_at = episode.infusion_start
    rows.append(
        {"label": _("MSC infusion"), "items": [_mark(axis, infusion_at, "start", _hm(infusion_at))]}
    )
    cyc_items = []
    if hold:
        end = episode.infusion_end or infusion_at
        cyc_items.append(
            _bar(
                axis,
                end,
                hold,
                "hold",
                _("no cyclophosphamide until %(t)s") % {"t": _local(hold).strftime("%m-%d %H:%M")},
            )
        )
    for order in cyc_orders:
        if order.scheduled_at and axis.start <= order.scheduled_at <= axis.end:
            inside = hold is not None and episode.infusion_start <= order.scheduled_at < hold
            cyc_items.append(
                _mark(
                    axis,
                    order.scheduled_at,
                    "cyc-bad" if inside else "cyc",
                    _("CYC %(t)s") % {"t": _local(order.scheduled_at).strftime("%m-%d %H:%M")},
                )
            )
    rows.append({"label": _("Cyclophosphamide hold (B-CYC-1)"), "items": cyc_items})
    week = [
        i for i in (episode.plan or {}).get("follow_up", ()) if i["kind"] == "blood_count_week_1"
    ]
    if week:
        due = date.fromisoformat(week[0]["due_date"])
        rows.append(
            {
                "label": _("Blood count (B-FU-2)"),
                "items": [
                    _mark(axis, _day_start(due) + timedelta(hours=12), "fu", due.strftime("%m-%d"))
                ],
            }
        )
    return _panel(_("Days around the infusion"), axis, ticks, rows)


def _months(episode):
    items = (episode.plan or {}).get("follow_up", ())
    if not items:
        return None
    day0 = _local(episode.infusion_start).date()
    end = max(date.fromisoformat(i["window_end"]) for i in items) + timedelta(days=7)
    axis = Axis(_day_start(day0), _day_start(end))
    ticks = []
    for months in (0, 1, 3, 6, 9, 12):
        year, month = (
            day0.year + (day0.month - 1 + months) // 12,
            (day0.month - 1 + months) % 12 + 1,
        )
        t = _day_start(date(year, month, min(day0.day, 28)))
        if t <= axis.end:
            ticks.append({"x": axis.x(t), "label": _("M%(n)s") % {"n": months}})
    by_rule = {}
    for item in items:
        by_rule.setdefault(item["rule_id"], []).append(item)
    rows = []
    for rule_id in sorted(by_rule):
        marks = []
        for item in by_rule[rule_id]:
            a = _day_start(date.fromisoformat(item["window_start"]))
            b = _day_start(date.fromisoformat(item["window_end"]) + timedelta(days=1))
            marks.append(_bar(axis, a, b, "fu-window", "", item.get("title", "")))
            marks.append(
                _mark(
                    axis,
                    _day_start(date.fromisoformat(item["due_date"])) + timedelta(hours=12),
                    "fu",
                    date.fromisoformat(item["due_date"]).strftime("%m-%d"),
                    item.get("title", ""),
                )
            )
        rows.append(
            {
                "label": FOLLOW_UP_LABELS.get(rule_id, rule_id),
                "items": marks,
                "items_src": by_rule[rule_id],
            }
        )
    return _panel(_("Follow-up"), axis, ticks, rows)


CHAR_PX = 6.6  # average width of an 11 px label character (CJK characters count double)


def _text_px(text):
    return sum(2 if ord(c) > 0x2E80 else 1 for c in str(text)) * CHAR_PX


def _place_labels(items):
    """Where each label goes: after its mark or inside its bar, flipped left at the right
    edge, and dropped (kept as the hover title) when it would overlap the previous one."""
    right = WIDTH - RIGHT
    last_end = 0.0
    for item in sorted(items, key=lambda i: i["x"]):
        text = item.get("text")
        if not text:
            continue
        width = _text_px(text)
        x = item["x"] + (3 if item["kind"] == "bar" else 4)
        anchor = "start"
        if x + width > right:
            edge = item["x"] + item["w"] if item["kind"] == "bar" else item["x"]
            x, anchor = edge - 4, "end"
            start = x - width
        else:
            start = x
        # A mark's label must also end before the next mark or bar begins.
        blocked_at = min((o["x"] for o in items if o["x"] > item["x"]), default=right + 8)
        runs_into = item["kind"] != "bar" and anchor == "start" and x + width > blocked_at - 2
        if start < last_end + 4 or runs_into:
            item["title"] = item.get("title") or text
            item["text"] = ""
            continue
        item["tx"], item["anchor"] = round(x, 1), anchor
        last_end = start + width


def build(episode, orders):
    live = [o for o in orders if o.status not in (OrderStatus.CANCELLED, OrderStatus.REJECTED)]
    by_kind = {}
    for o in live:
        by_kind.setdefault(o.kind, []).append(o)
    msc = (by_kind.get(OrderKind.MSC_IV) or [None])[0]
    dexa = (by_kind.get(OrderKind.DEXAMETHASONE) or [None])[0]
    ap = (by_kind.get(OrderKind.ANTIPLATELET) or [None])[0]
    start = episode.infusion_start
    end = episode.ended_at or episode.planned_end or start
    panels = [
        _cold_chain(episode, start, end),
        _infusion(episode, msc, dexa, start, end),
        _days(episode, ap, by_kind.get(OrderKind.CYCLOPHOSPHAMIDE, [])),
    ]
    months = _months(episode)
    if months:
        panels.append(months)
    for panel in panels:
        for row in panel["rows"]:
            _place_labels(row["items"])
    y = 8
    for panel in panels:
        panel["y"] = y
        panel["axis_y"] = y + 22
        for n, row in enumerate(panel["rows"]):
            row["y"] = y + 34 + n * ROW
        panel["height"] = 34 + len(panel["rows"]) * ROW + 8
        y += panel["height"] + PANEL_GAP
        del panel["axis"]
    return {
        "panels": panels,
        "width": WIDTH,
        "height": y,
        "left": LEFT,
        "plot_right": WIDTH - RIGHT,
    }
