"""Issue 16: model-level bounds of every date and time field (full_clean, the Django admin);
the forms (core.forms Bounded*Field) and the services check the same range first."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .clinical_time import EARLIEST_YEAR, LATEST_YEAR


def plausible_date(value):
    """A date or time between 1900 and 2199 (core.clinical_time)."""
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s."),
            code="implausible",
            params={"earliest": f"{EARLIEST_YEAR}-01-01", "latest": f"{LATEST_YEAR}-12-31"},
        )
