"""Issue 16: a page never answers 500 for a date or time already stored out of range.

Rows written before the input boundary (core.forms ``BoundedDateTimeField``, C-TIME-1 in
the services) may hold year 1, a BC instant (year 1 typed in a zone east of UTC) or a
year beyond 9999. psycopg cannot load those into a Python ``datetime`` ("timestamp too
small"), and a year-1 or year-9999 instant that does load overflows when converted to the
ward's zone. Every page, PDF and the timeline then failed for every user.

The loaders below, registered for each new connection (Django's public
``connection_created`` signal, psycopg's public adapters API, as its documentation does
for "infinity"), clamp such a value into ``[FLOOR, CEILING]``: a month inside Python's
range, so converting it to any zone or adding a few days to it cannot overflow. The
clamped value is before 1900 or after 2199, so ``|when`` shows it flagged
(core.clinical_time.plausible_year) and the system administrator's page
(core.time_corrections) lists it for correction. Nothing is written back.
"""

from datetime import UTC, datetime

import psycopg
from django.db.backends.signals import connection_created
from psycopg.types.datetime import DateLoader, TimestamptzLoader

FLOOR = datetime(1, 2, 1, tzinfo=UTC)
CEILING = datetime(9999, 11, 30, tzinfo=UTC)
FLOOR_DATE = FLOOR.date()
CEILING_DATE = CEILING.date()


def _too_small(data) -> bool:
    text = bytes(data).decode("utf-8", "replace")
    return "BC" in text or text == "-infinity"


class TolerantTimestamptzLoader(TimestamptzLoader):
    """timestamptz as an aware datetime in the connection's zone (UTC, as Django's own
    loader gives it), clamped into [FLOOR, CEILING]."""

    # Django's cursor compares its connection zone with the registered loader's
    # ``timezone`` (as its own loader has one); set to the connection's zone on registering.
    timezone = UTC

    def load(self, data):
        try:
            value = super().load(data)
        except psycopg.DataError:
            return FLOOR if _too_small(data) else CEILING
        value = value.replace(tzinfo=self.timezone)
        return FLOOR if value < FLOOR else CEILING if value > CEILING else value


class TolerantDateLoader(DateLoader):
    """date, clamped into [FLOOR_DATE, CEILING_DATE] (a BC date or one after 9999)."""

    def load(self, data):
        try:
            value = super().load(data)
        except psycopg.DataError:
            return FLOOR_DATE if _too_small(data) else CEILING_DATE
        return FLOOR_DATE if value < FLOOR_DATE else CEILING_DATE if value > CEILING_DATE else value


def register_tolerant_loaders(sender, connection, **kwargs):
    if connection.vendor != "postgresql" or connection.timezone is None:
        return
    loader = type("TolerantTimestamptzLoader", (TolerantTimestamptzLoader,), {})
    loader.timezone = connection.timezone
    adapters = connection.connection.adapters
    adapters.register_loader("timestamptz", loader)
    adapters.register_loader("date", TolerantDateLoader)


def connect():
    connection_created.connect(register_tolerant_loaders, dispatch_uid="core.stored_time")
