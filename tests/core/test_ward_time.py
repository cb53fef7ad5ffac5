"""``|when`` prints what ``|date`` prints for the numeric formats, in the ward's zone."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from core.templatetags.ward_time import STRFTIME

MOMENTS = [
    datetime(2026, 3, 8, 6, 59, tzinfo=UTC),  # New York: 01:59 EST
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York: 03:00 EDT (spring ahead)
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # New York: 01:30 EDT
    datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # New York: 01:30 EST (fall back)
    datetime(2026, 12, 31, 16, 0, 5, tzinfo=UTC),  # Shanghai: next day, 00:00:05
]


def render(source, value):
    return Template(source).render(Context({"v": value}))


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("fmt", sorted(STRFTIME))
def test_it_matches_the_date_filter_for_aware_datetimes(settings, zone, language, fmt):
    settings.TIME_ZONE = zone
    with translation.override(language):
        for moment in MOMENTS:
            expected = render(f'{{{{ v|date:"{fmt}" }}}}', moment)
            assert render(f'{{{{ v|when:"{fmt}" }}}}', moment) == expected, (zone, moment)


def test_it_shows_the_wards_day_not_the_utc_day(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert render('{{ v|when:"Y-m-d H:i" }}', MOMENTS[-1]) == "2027-01-01 00:00"
    settings.TIME_ZONE = "America/New_York"
    assert render('{{ v|when:"Y-m-d H:i" }}', MOMENTS[1]) == "2026-03-08 03:00"


@pytest.mark.parametrize("value", [date(2026, 2, 28), None, "", "not a date"])
def test_dates_and_empty_values_read_as_with_the_date_filter(value):
    for fmt in ("Y-m-d", "m-d"):
        assert render(f'{{{{ v|when:"{fmt}" }}}}', value) == render(
            f'{{{{ v|date:"{fmt}" }}}}', value
        )


def test_another_format_goes_to_the_date_filter():
    moment = MOMENTS[0]
    assert render('{{ v|when:"N j, Y" }}', moment) == render('{{ v|date:"N j, Y" }}', moment)


def test_localtime_off_is_honoured(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    source = '{% load tz %}{% localtime off %}{{ v|when:"H:i" }}{% endlocaltime %}'
    assert Template(source).render(Context({"v": MOMENTS[0]})) == "06:59"
