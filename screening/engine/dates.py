"""Calendar helpers: strict ISO dates and month/week/day periods."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from .i18n import gettext_noop

# Dates outside this range are almost certainly typing errors, and keeping them out
# means window arithmetic can never overflow ``date``.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(text: object) -> date | None:
    """Return the date for a strict ``YYYY-MM-DD`` string in range, else None."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None
    if not MIN_DATE <= parsed <= MAX_DATE:
        return None
    return parsed


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(d: date, months: int) -> date:
    """Calendar month arithmetic; the day is clamped to the end of a shorter month."""
    years, month_index = divmod(d.month - 1 + months, 12)
    year = d.year + years
    last = _DAYS_IN_MONTH[month_index]
    if month_index == 1 and calendar.isleap(year):
        last = 29
    return date(year, month_index + 1, min(d.day, last))


PERIOD_UNIT_LABELS = {
    "months": gettext_noop("months"),
    "weeks": gettext_noop("weeks"),
    "days": gettext_noop("days"),
}


@dataclass(frozen=True, slots=True)
class Period:
    """A span such as 6 months or 12 weeks. Months are calendar months."""

    count: int
    unit: Literal["months", "weeks", "days"]

    def before(self, d: date) -> date:
        """The date this period before ``d`` ("within the past 6 months" starts here)."""
        return self._shift(d, -self.count)

    def after(self, d: date) -> date:
        return self._shift(d, self.count)

    def spans(self, start: date, end: date) -> bool:
        """True when [start, end] lasts at least this period (start + period ≤ end)."""
        return self.after(start) <= end

    def _shift(self, d: date, count: int) -> date:
        if self.unit == "months":
            return add_months(d, count)
        if self.unit == "weeks":
            return d + timedelta(weeks=count)
        return d + timedelta(days=count)

    @property
    def unit_label(self) -> str:
        return PERIOD_UNIT_LABELS[self.unit]
