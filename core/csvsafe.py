"""The one CSV writer of the app's exports, safe to open in a spreadsheet:
``csvsafe.writer(out)`` in place of ``csv.writer(out)``.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a
tab or carriage return) as a formula: an edit reason ``=HYPERLINK(...)`` in the audit
export would be a live link. Every text cell starting with one of them is prefixed with
an apostrophe, which spreadsheets show as text and hide; numbers stay numbers (``-3`` is
no formula). Every export (the audit trail, the screening log) goes through here.
"""

import csv
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell as written: None empty, numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class SafeWriter:
    """``csv.writer`` whose rows go through ``safe_cell``."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(cell) for cell in row])


def writer(out, **options):
    return SafeWriter(out, **options)
