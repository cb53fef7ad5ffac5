"""Cold chain and handling (B-ADM-1, B-ADM-2; consensus §3.7).

From the preparation time of the suspension:

- ``late_from`` = preparation + ``late_warning_minutes`` (default 8 h): an infusion that
  ends after this gets a warning;
- ``must_complete_by`` = preparation + ``hard_limit_minutes`` (default 12 h): an infusion
  that ends after this is refused. Ending exactly at the hard limit is allowed; ending
  exactly at ``late_from`` is not late.

Both are elapsed time on aware datetimes, so they are right across DST changes.

Room-temperature step: take the suspension out of the refrigerator between
``room_temperature_max_minutes`` (20) and ``room_temperature_min_minutes`` (10) before the
start: ``out_of_fridge_earliest`` = start − 20 min, ``out_of_fridge_latest`` = start − 10 min.
An actual out-of-fridge time less than 10 or more than 20 min before the start is a warning;
out of the refrigerator after the recorded start is a handling error (``check_out_of_fridge``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .findings import Finding, Serializable, make_finding
from .i18n import gettext_noop
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings
from .timeutil import aware_utc


@dataclass(frozen=True)
class ColdChainWindow(Serializable):
    preparation_time: datetime
    late_from: datetime
    must_complete_by: datetime


@dataclass(frozen=True)
class ColdChainCheck(Serializable):
    status: str  # ok | late | refused | unknown | error
    preparation_time: datetime
    late_from: datetime
    must_complete_by: datetime
    planned_start: datetime
    planned_end: datetime | None
    out_of_fridge_earliest: datetime
    out_of_fridge_latest: datetime
    findings: tuple[Finding, ...]
    handling: tuple[Finding, ...]


def cold_chain_window(
    preparation_time: datetime, settings: ProtocolSettings = DEFAULT_SETTINGS
) -> ColdChainWindow:
    prep = aware_utc(preparation_time, "preparation_time")
    return ColdChainWindow(
        preparation_time=prep,
        late_from=prep + timedelta(minutes=settings.late_warning_minutes),
        must_complete_by=prep + timedelta(minutes=settings.hard_limit_minutes),
    )


def end_status(end: datetime, late_from: datetime, must_complete_by: datetime) -> str:
    """B-ADM-1 for an infusion's end: "refused" after the hard limit, "late" after
    ``late_from``, else "ok". Ending exactly at ``late_from`` is not late; ending exactly at
    the hard limit is allowed. The one place these two lines are drawn: the plan check,
    the start, the bedside chart and the pharmacy queue all ask here."""
    if end > must_complete_by:
        return "refused"
    if end > late_from:
        return "late"
    return "ok"


def room_temperature_window(
    planned_start: datetime, settings: ProtocolSettings = DEFAULT_SETTINGS
) -> tuple[datetime, datetime]:
    """(out_of_fridge_earliest, out_of_fridge_latest) in UTC."""
    start = aware_utc(planned_start, "planned_start")
    return (
        start - timedelta(minutes=settings.room_temperature_max_minutes),
        start - timedelta(minutes=settings.room_temperature_min_minutes),
    )


def _hours(minutes: int) -> str:
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes // 60}:{minutes % 60:02d}"


def check_infusion_window(
    preparation_time: datetime,
    start: datetime,
    end: datetime | None,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    *,
    display_zone=None,
) -> ColdChainCheck:
    """Check a planned (start, end) against the preparation time.

    ``display_zone`` (a tzinfo) only changes how times are written in reasons (UTC
    otherwise). All arithmetic and comparisons are done in UTC.
    """
    start = aware_utc(start, "start")
    end = aware_utc(end, "end") if end is not None else None
    preparation_time = aware_utc(preparation_time, "preparation_time")
    window = cold_chain_window(preparation_time, settings)
    earliest, latest = room_temperature_window(start, settings)

    def show(value: datetime) -> datetime:
        return value.astimezone(display_zone) if display_zone else value

    params = {
        "prep": show(preparation_time),
        "start": show(start),
        "end": show(end) if end else None,
        "late_from": show(window.late_from),
        "limit": show(window.must_complete_by),
        "late_hours": _hours(settings.late_warning_minutes),
        "limit_hours": _hours(settings.hard_limit_minutes),
    }
    findings = []
    if start < preparation_time:
        status = "error"
        findings.append(
            make_finding(
                "B-ADM-1",
                "error",
                "block",
                gettext_noop("Planned start %(start)s is before the preparation time %(prep)s."),
                params,
            )
        )
    elif end is None:
        status = "unknown"
        findings.append(
            make_finding(
                "B-ADM-1",
                "unknown",
                "unknown",
                gettext_noop(
                    "Planned end unknown (no rate plan): the infusion must be complete by %(limit)s "
                    "(%(limit_hours)s h after preparation %(prep)s)."
                ),
                params,
                missing=("product.suspension_volume_ml",),
            )
        )
    elif end < start:
        status = "error"
        findings.append(
            make_finding(
                "B-ADM-1",
                "error",
                "block",
                gettext_noop("Planned end %(end)s is before the planned start %(start)s."),
                params,
            )
        )
    else:
        status = end_status(end, window.late_from, window.must_complete_by)
        severity, template = {
            "refused": (
                "block",
                gettext_noop(
                    "Planned end %(end)s is after %(limit)s, %(limit_hours)s h after preparation "
                    "%(prep)s: the infusion must be complete by then; refused."
                ),
            ),
            "late": (
                "warning",
                gettext_noop(
                    "Planned end %(end)s is more than %(late_hours)s h after preparation %(prep)s "
                    "(after %(late_from)s); it must be complete by %(limit)s."
                ),
            ),
            "ok": (
                "info",
                gettext_noop(
                    "Planned end %(end)s is within %(late_hours)s h of preparation %(prep)s "
                    "(hard limit %(limit)s)."
                ),
            ),
        }[status]
        findings.append(make_finding("B-ADM-1", status, severity, template, params))
    return ColdChainCheck(
        status=status,
        preparation_time=window.preparation_time,
        late_from=window.late_from,
        must_complete_by=window.must_complete_by,
        planned_start=start,
        planned_end=end,
        out_of_fridge_earliest=earliest,
        out_of_fridge_latest=latest,
        findings=tuple(findings),
        handling=handling_instructions(start, settings, display_zone=display_zone),
    )


def check_out_of_fridge(
    out_of_fridge_at: datetime,
    start: datetime,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    *,
    display_zone=None,
    start_is_planned: bool = False,
) -> Finding:
    """B-ADM-2, the one room-temperature check: the recorded out-of-fridge time against
    the recorded start (``start_is_planned=False``) or, before the start, the planned start.

    Times in the reason are the ward's local "HH:MM" (``display_zone``; UTC otherwise),
    never ISO. Less than 10 min (e.g. started 7 s after taking it out) or more than 20 min
    is a warning; out of the refrigerator after the recorded start is a handling error
    (``block``); after the planned start (not started yet), a warning that says when the
    start may be.
    """
    out_of_fridge_at = aware_utc(out_of_fridge_at, "out_of_fridge_at")
    start = aware_utc(start, "start")
    elapsed = start - out_of_fridge_at
    low = timedelta(minutes=settings.room_temperature_min_minutes)
    high = timedelta(minutes=settings.room_temperature_max_minutes)

    def hm(value: datetime) -> str:
        return (value.astimezone(display_zone) if display_zone else value).strftime("%H:%M")

    seconds = int(elapsed.total_seconds())
    params = {
        "out": hm(out_of_fridge_at),
        "start": hm(start),
        "minutes": _minutes_text(elapsed),
        "elapsed": f"{seconds // 60} min" if abs(seconds) >= 60 else f"{abs(seconds)} s",
        "low": settings.room_temperature_min_minutes,
        "high": settings.room_temperature_max_minutes,
        "earliest": hm(out_of_fridge_at + low),
        "latest": hm(out_of_fridge_at + high),
    }
    if elapsed < timedelta(0):
        if start_is_planned:
            template = gettext_noop(
                "Out of the refrigerator at %(out)s, after the planned start at %(start)s: "
                "start between %(earliest)s and %(latest)s (%(low)s–%(high)s min at room "
                "temperature)."
            )
            return make_finding("B-ADM-2", "after_planned_start", "warning", template, params)
        template = gettext_noop(
            "Handling error: out of the refrigerator at %(out)s, after the start at %(start)s "
            "(the suspension must be at room temperature %(low)s–%(high)s min before the start)."
        )
        return make_finding("B-ADM-2", "handling_error", "block", template, params)
    if elapsed < low:
        template = (
            gettext_noop(
                "Out of the refrigerator at %(out)s, %(elapsed)s before the planned start at "
                "%(start)s: too short: %(low)s–%(high)s min at room temperature."
            )
            if start_is_planned
            else gettext_noop(
                "Out of the refrigerator at %(out)s, %(elapsed)s before the start at %(start)s: "
                "too short: %(low)s–%(high)s min at room temperature."
            )
        )
        return make_finding("B-ADM-2", "too_short", "warning", template, params)
    if elapsed > high:
        template = (
            gettext_noop(
                "Out of the refrigerator at %(out)s, %(elapsed)s before the planned start at "
                "%(start)s: too long: %(low)s–%(high)s min at room temperature."
            )
            if start_is_planned
            else gettext_noop(
                "Out of the refrigerator at %(out)s, %(elapsed)s before the start at %(start)s: "
                "too long: %(low)s–%(high)s min at room temperature."
            )
        )
        return make_finding("B-ADM-2", "too_long", "warning", template, params)
    template = (
        gettext_noop(
            "Out of the refrigerator at %(out)s, %(elapsed)s before the planned start at "
            "%(start)s (%(low)s–%(high)s min at room temperature)."
        )
        if start_is_planned
        else gettext_noop(
            "Out of the refrigerator at %(out)s, %(elapsed)s before the start at %(start)s "
            "(%(low)s–%(high)s min at room temperature)."
        )
    )
    return make_finding("B-ADM-2", "ok", "info", template, params)


def _minutes_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds % 60 == 0:
        return f"{sign}{seconds // 60}"
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"


def handling_instructions(
    start: datetime, settings: ProtocolSettings = DEFAULT_SETTINGS, *, display_zone=None
) -> tuple[Finding, ...]:
    earliest, latest = room_temperature_window(start, settings)
    if display_zone:
        earliest, latest = earliest.astimezone(display_zone), latest.astimezone(display_zone)
    return (
        make_finding(
            "B-ADM-1",
            "instruction",
            "info",
            gettext_noop("Store the suspension at 2–8 °C, protected from light, until use."),
        ),
        make_finding(
            "B-ADM-2",
            "instruction",
            "info",
            gettext_noop(
                "Do not shake vigorously and do not warm the suspension (protein denaturation, "
                "cell damage)."
            ),
        ),
        make_finding(
            "B-ADM-2",
            "instruction",
            "info",
            gettext_noop(
                "Take it out of the refrigerator between %(earliest)s and %(latest)s: "
                "%(low)s–%(high)s min at room temperature before the start."
            ),
            {
                "earliest": earliest,
                "latest": latest,
                "low": settings.room_temperature_min_minutes,
                "high": settings.room_temperature_max_minutes,
            },
        ),
    )
