"""Local wall times → aware UTC, across DST changes (no database).

Policy: a nonexistent wall time (spring-forward gap) moves forward by the gap; an
ambiguous one (fall-back hour) is the earlier instant.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.reminders.times import local_hhmm, local_to_utc, shift_wall_clock


@pytest.mark.parametrize(
    "zone, day, expected_utc",
    [
        # The day before the US spring-forward (Sun 8 Mar 2026): still EST (UTC-5).
        ("America/New_York", date(2026, 3, 7), datetime(2026, 3, 7, 13, 0, tzinfo=UTC)),
        # The change day itself and the day after: EDT (UTC-4).
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 9), datetime(2026, 3, 9, 12, 0, tzinfo=UTC)),
        # The day before the US fall-back (Sun 1 Nov 2026): EDT; after: EST.
        ("America/New_York", date(2026, 10, 31), datetime(2026, 10, 31, 12, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
        # The day before the EU spring-forward (Sun 29 Mar 2026): GMT; after: BST.
        ("Europe/London", date(2026, 3, 28), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 3, 29), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        # The day before the EU fall-back (Sun 25 Oct 2026): BST; after: GMT.
        ("Europe/London", date(2026, 10, 24), datetime(2026, 10, 24, 7, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 25), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        # Shanghai has no DST: always UTC+8, on the same calendar days.
        ("Asia/Shanghai", date(2026, 3, 7), datetime(2026, 3, 7, 0, 0, tzinfo=UTC)),
        ("Asia/Shanghai", date(2026, 3, 29), datetime(2026, 3, 29, 0, 0, tzinfo=UTC)),
        ("Asia/Shanghai", date(2026, 11, 1), datetime(2026, 11, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_eight_oclock_local_is_the_right_utc_instant(zone, day, expected_utc):
    instant = local_to_utc(day, time(8, 0), zone)
    assert instant == expected_utc
    assert instant.tzinfo == UTC
    assert local_hhmm(instant, zone) == "08:00"


def test_the_day_before_an_infusion_is_a_local_day_not_24_hours():
    # Infusion Sunday 8 March 2026 09:00 New York; antiplatelet 08:00 the day before.
    infusion = local_to_utc(date(2026, 3, 8), time(9, 0), "America/New_York")
    day_before = local_to_utc(date(2026, 3, 7), time(8, 0), "America/New_York")
    assert infusion - day_before == timedelta(hours=24)  # 25 h of wall clock minus the lost hour
    assert local_hhmm(day_before, "America/New_York") == "08:00"


@pytest.mark.parametrize(
    "zone, day, wall, expected_utc, expected_local",
    [
        # 02:30 does not exist on 8 Mar 2026 in New York: it becomes 03:30 EDT.
        (
            "America/New_York",
            date(2026, 3, 8),
            time(2, 30),
            datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
            "03:30",
        ),
        # 01:30 does not exist on 29 Mar 2026 in London: it becomes 02:30 BST.
        (
            "Europe/London",
            date(2026, 3, 29),
            time(1, 30),
            datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
            "02:30",
        ),
    ],
)
def test_a_nonexistent_wall_time_moves_forward_by_the_gap(
    zone, day, wall, expected_utc, expected_local
):
    instant = local_to_utc(day, wall, zone)
    assert instant == expected_utc
    assert local_hhmm(instant, zone) == expected_local


@pytest.mark.parametrize(
    "zone, day, wall, earlier_utc",
    [
        # 01:30 happens twice on 1 Nov 2026 in New York: 05:30Z (EDT) and 06:30Z (EST).
        (
            "America/New_York",
            date(2026, 11, 1),
            time(1, 30),
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        ),
        # 01:30 happens twice on 25 Oct 2026 in London: 00:30Z (BST) and 01:30Z (GMT).
        (
            "Europe/London",
            date(2026, 10, 25),
            time(1, 30),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
    ],
)
def test_an_ambiguous_wall_time_is_the_earlier_instant(zone, day, wall, earlier_utc):
    assert local_to_utc(day, wall, zone) == earlier_utc


def test_the_ward_zone_is_the_default(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert local_to_utc(date(2026, 6, 1), time(8, 0)) == datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone, start_local, expected_utc",
    [
        ("America/New_York", (2026, 3, 7, 8, 0), datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        ("Europe/London", (2026, 10, 24, 8, 0), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        ("Asia/Shanghai", (2026, 3, 7, 8, 0), datetime(2026, 3, 8, 0, 0, tzinfo=UTC)),
    ],
)
def test_shifting_by_a_day_keeps_the_wall_time(zone, start_local, expected_utc):
    y, m, d, hh, mm = start_local
    start = local_to_utc(date(y, m, d), time(hh, mm), zone)
    assert shift_wall_clock(start, timedelta(days=1), zone) == expected_utc
