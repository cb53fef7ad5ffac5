"""C-TIME-1: is a recorded clinical time plausible? One pure rule for every service.

A recorded time (infusion received, out of the refrigerator, start, rate step, end,
vital signs, reaction, administration, SAE "informed at", lab ``observed_at``,
measurement ``measured_at``) is refused when it is

- not a real clinical date: before 1900 (e.g. year 1 from a mistyped or defaulted field);
- on a day before the patient's date of birth (in the ward's zone; the birth day itself
  is accepted);
- before the product's preparation time (where a product is involved);
- before the event it follows (``after``: strictly later, e.g. an end after its start;
  ``not_before``: the same instant allowed, e.g. out of the refrigerator at reception);
- later than now + ``CLOCK_TOLERANCE_MINUTES`` (5 min of clock skew between a tablet and
  the server; exactly now + 5 min is accepted, 1 s more is refused).

No Django here: the caller passes ``now`` and the display zone, and translates the
returned ``TimeProblem`` templates (marked with ``gettext_noop`` for makemessages).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

CLOCK_TOLERANCE_MINUTES = 5
EARLIEST_YEAR = 1900
# Issue 16: no date or time the app accepts lies beyond this year (screening's MAX_DATE,
# the infusion contract's limit); anything stored outside 1900..2199 is shown flagged.
LATEST_YEAR = 2199


def gettext_noop(message: str) -> str:
    return message


@dataclass(frozen=True)
class TimeProblem:
    code: str  # too_old | before_birth | before_preparation | before_event | future
    template: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.params


def plausible_year(value: date) -> bool:
    """Issue 16: a stored date or time shown as it is (else flagged "implausible time —
    needs correction"): between 1900 and 2199, whatever the zone it is shown in."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def _shown(value: datetime, zone: tzinfo | None) -> str:
    return value.astimezone(zone or UTC).strftime("%Y-%m-%d %H:%M")


def check_clinical_time(
    at: datetime,
    *,
    now: datetime,
    what: str,
    birth_date: date | None = None,
    prepared_at: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    not_before: tuple[datetime, str] | None = None,
    zone: tzinfo | None = None,
    tolerance_minutes: int = CLOCK_TOLERANCE_MINUTES,
) -> list[TimeProblem]:
    """Problems with the recorded time ``at`` ([] when plausible).

    ``what`` names the time in messages ("The end time"); ``after``/``not_before`` are
    ``(instant, label)`` of the event this one follows ("the start"). ``at`` and the
    instants must be timezone-aware.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what}: a recorded time must be timezone-aware")
    params = {"what": what, "at": _shown(at, zone) if at.year >= EARLIEST_YEAR else str(at)}
    problems = []
    if at.year < EARLIEST_YEAR:
        return [
            TimeProblem(
                "too_old",
                gettext_noop("%(what)s (%(at)s) is not a plausible date: before 1900."),
                params,
            )
        ]
    if birth_date is not None and at.astimezone(zone or UTC).date() < birth_date:
        problems.append(
            TimeProblem(
                "before_birth",
                gettext_noop("%(what)s (%(at)s) is before the patient's birth (%(birth)s)."),
                {**params, "birth": birth_date.isoformat()},
            )
        )
    if prepared_at is not None and at < prepared_at:
        problems.append(
            TimeProblem(
                "before_preparation",
                gettext_noop("%(what)s (%(at)s) is before the product was prepared (%(prep)s)."),
                {**params, "prep": _shown(prepared_at, zone)},
            )
        )
    if after is not None and at <= after[0]:
        problems.append(
            TimeProblem(
                "before_event",
                gettext_noop("%(what)s (%(at)s) must be after %(event)s (%(event_at)s)."),
                {**params, "event": after[1], "event_at": _shown(after[0], zone)},
            )
        )
    if not_before is not None and at < not_before[0]:
        problems.append(
            TimeProblem(
                "before_event",
                gettext_noop("%(what)s (%(at)s) is before %(event)s (%(event_at)s)."),
                {**params, "event": not_before[1], "event_at": _shown(not_before[0], zone)},
            )
        )
    if at > now + timedelta(minutes=tolerance_minutes):
        problems.append(
            TimeProblem(
                "future",
                gettext_noop(
                    "%(what)s (%(at)s) is in the future; record the time it happened "
                    "(at most %(minutes)s min ahead of the clock)."
                ),
                {**params, "minutes": tolerance_minutes},
            )
        )
    return problems


SCHEDULE_DAYS_AHEAD = 2 * 366  # issue 16: a plan or a schedule at most two years ahead


def check_scheduled_time(
    at: datetime, *, now: datetime, what: str, max_days_ahead: int = SCHEDULE_DAYS_AHEAD
) -> list[TimeProblem]:
    """Issue 16: problems with a time planned ahead (a cyclophosphamide ``scheduled_at``,
    an infusion's planned start): not before 1900 nor after 2199, not more than
    ``max_days_ahead`` days after ``now``. It may lie in the past (a dose given late)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what}: a scheduled time must be timezone-aware")
    if not EARLIEST_YEAR <= at.year <= LATEST_YEAR:
        return [
            TimeProblem(
                "too_old" if at.year < EARLIEST_YEAR else "too_far",
                gettext_noop(
                    "%(what)s (%(at)s) is not a plausible date: before 1900 or after 2199."
                ),
                {"what": what, "at": str(at)},
            )
        ]
    if at - now > timedelta(days=max_days_ahead):
        return [
            TimeProblem(
                "too_far",
                gettext_noop("%(what)s (%(at)s) is more than %(days)s days ahead: check the year."),
                {"what": what, "at": _shown(at, UTC), "days": max_days_ahead},
            )
        ]
    return []
