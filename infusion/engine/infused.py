"""What the recorded rates could have infused (B-ADM-4; issue 15, early end).

The chart records rate steps: (time, mL/min), the first one at the start; each rate
runs until the next step, the last one until the end. From them:

- ``volume_infused_ml(steps, end)``: the volume the charted rates deliver by ``end``;
- ``earliest_complete_end(steps, volume_ml)``: the first instant the whole suspension
  volume could have run in at the charted rates (the last rate continuing).

An end before ``earliest_complete_end`` cannot be "completed" as charted: the nurse gives
the volume actually infused and a reason (stopped early, or completed — e.g. a rate
change not charted). Decimal arithmetic; times are aware datetimes.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

SIXTY = Decimal(60)


def _ordered(steps: Iterable[tuple[datetime, Decimal]]) -> list[tuple[datetime, Decimal]]:
    return sorted(((at, Decimal(rate)) for at, rate in steps), key=lambda s: s[0])


def volume_infused_ml(steps: Iterable[tuple[datetime, Decimal]], end: datetime) -> Decimal:
    """mL delivered by ``end`` at the charted rates (0 before the first step)."""
    ordered = _ordered(steps)
    total = Decimal(0)
    for n, (at, rate) in enumerate(ordered):
        until = ordered[n + 1][0] if n + 1 < len(ordered) else end
        until = min(until, end)
        if until <= at:
            continue
        seconds = Decimal((until - at).total_seconds()).quantize(Decimal("0.001"))
        total += rate * seconds / SIXTY
    return total


def earliest_complete_end(
    steps: Iterable[tuple[datetime, Decimal]], volume_ml: Decimal
) -> datetime | None:
    """The first instant ``volume_ml`` could have run in (None without a positive rate)."""
    ordered = _ordered(steps)
    remaining = Decimal(volume_ml)
    for n, (at, rate) in enumerate(ordered):
        nxt = ordered[n + 1][0] if n + 1 < len(ordered) else None
        if rate <= 0:
            continue
        if nxt is not None:
            seconds = Decimal((nxt - at).total_seconds())
            delivered = rate * seconds / SIXTY
            if delivered < remaining:
                remaining -= delivered
                continue
        needed = (remaining * SIXTY / rate).to_integral_value(rounding=ROUND_CEILING)
        return at + timedelta(seconds=int(needed))
    return None
