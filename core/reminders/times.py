"""Wall-clock times in a ward's time zone turned into aware UTC instants.

A plan says "08:00 the day before the infusion": that is a local wall time on a local
date, and across a DST change it is not "the infusion minus 24 h". Compute the local
date first, then ask the zone for the instant.

Policy for wall times that do not exist or happen twice (DST zones only; Asia/Shanghai
has neither):
- nonexistent (the spring-forward gap, e.g. 02:30 in New York on 2026-03-08): moved
  forward by the length of the gap (02:30 → 03:30 local), so the reminder is never
  dropped and comes at the first real minute at or after the hole;
- ambiguous (the fall-back hour, e.g. 01:30 in New York on 2026-11-01 happens twice): the
  earlier of the two instants, so a reminder is never an hour late.
These are exactly PEP 495's `fold=0` semantics; `local_to_utc` pins them explicitly.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def ward_zone(tz=None):
    if tz is None:
        return ZoneInfo(settings.TIME_ZONE)
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def local_to_utc(day: date, at: time, tz=None) -> datetime:
    """The aware UTC instant of wall time `at` on local date `day` in zone `tz`."""
    zone = ward_zone(tz)
    naive = datetime.combine(day, at.replace(tzinfo=None))
    candidate = naive.replace(tzinfo=zone, fold=0)
    instant = candidate.astimezone(UTC)
    # Round-tripping shows whether the wall time exists: in a gap it comes back shifted.
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        # fold=0 in a gap uses the offset before the change, which lands `gap` minutes
        # after the hole's start on the new offset: 02:30 EST-ish == 03:30 EDT.
        return instant
    # Ambiguous: both folds exist; fold=0 is the earlier instant.
    other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return min(instant, other)


def shift_wall_clock(instant: datetime, shift: timedelta, tz=None) -> datetime:
    """Move an instant by `shift` in local wall-clock time (a day later stays 08:00)."""
    zone = ward_zone(tz)
    local = instant.astimezone(zone).replace(tzinfo=None) + shift
    return local_to_utc(local.date(), local.time(), zone)


def local_hhmm(instant: datetime, tz=None) -> str:
    return instant.astimezone(ward_zone(tz)).strftime("%H:%M")
