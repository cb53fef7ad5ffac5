"""Aware-datetime and calendar-day helpers.

Elapsed-time limits (8/12 h after preparation, 48 h after the infusion) are absolute
durations, so they are computed on aware datetimes and are right across DST changes.
Calendar days (the day before the infusion, follow-up dates, ``day_offset``) are the
ward's local dates, decided in the ward's IANA time zone.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class NaiveDatetimeError(ValueError):
    """A datetime without a UTC offset reached the engine."""


def require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name} must be timezone-aware (got naive {value.isoformat()}); "
            "give a UTC offset, e.g. 2024-06-01T09:00:00+08:00"
        )
    return value


def aware_utc(value: datetime, name: str) -> datetime:
    """Validate *value* as aware and return it in UTC.

    Python adds timedeltas to aware datetimes in WALL-CLOCK time when they share a
    tzinfo (20:00 EST + 12 h = 08:00 EDT, only 11 elapsed hours), and compares same-zone
    datetimes by wall clock. Every elapsed-time computation therefore runs in UTC.
    """
    return require_aware(value, name).astimezone(UTC)


def load_zone(name: str) -> ZoneInfo:
    """The ward's time zone; ValueError naming the bad value otherwise."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"Time zone must be an IANA name such as 'Asia/Shanghai', got {name!r}")
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError for odd names
        raise ValueError(
            f"Unknown time zone {name!r}; use an IANA name such as 'Asia/Shanghai'"
        ) from None


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def local_date(value: datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date()


def start_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) at which *day* begins in *zone*."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """Same day of the month *months* later, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def age_in_years(date_of_birth: date, on: date) -> int:
    """Completed years on *on* (a birthday on 29 February counts from 1 March)."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years
