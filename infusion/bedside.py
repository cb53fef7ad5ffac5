"""What the bedside record says about handling, computed once for every page and PDF.

- ``room_temperature(episode)`` (B-ADM-2): the recorded out-of-fridge time against the
  recorded start, or the planned start before the start; the engine's
  ``check_out_of_fridge`` is the one rule. The chart, the episode page, the start banner
  and the PDF record all show this finding, in the ward's local time.
- ``end_deviation(episode)`` (B-ADM-1): an actual end after the cold-chain hard limit is a
  recorded deviation (the start is refused when the projected end is past it, but an
  infusion may still run late).
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from infusion.engine import check_out_of_fridge, end_status

from .protocol import protocol_settings, ward_zone


def room_temperature(episode):
    """The B-ADM-2 finding, or None before the suspension is out of the refrigerator."""
    if episode.out_of_fridge_at is None:
        return None
    start = episode.started_at or episode.planned_start
    return check_out_of_fridge(
        episode.out_of_fridge_at,
        start,
        protocol_settings(),
        display_zone=ward_zone(),
        start_is_planned=episode.started_at is None,
    )


def end_deviation(episode):
    """The B-ADM-1 deviation text when the recorded end is after the hard limit, else ""."""
    if episode.ended_at is None:
        return ""
    status = end_status(
        episode.ended_at, episode.cold_chain_late_from, episode.cold_chain_must_complete_by
    )
    if status != "refused":
        return ""

    def local(value):
        return timezone.localtime(value, ward_zone()).strftime("%Y-%m-%d %H:%M")

    return _(
        "Deviation (B-ADM-1): the infusion ended at %(end)s, after the cold-chain hard limit "
        "%(limit)s."
    ) % {"end": local(episode.ended_at), "limit": local(episode.cold_chain_must_complete_by)}
