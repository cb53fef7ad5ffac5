"""Markup built in Python for fragments a page repeats dozens of times (screening form
lines and chips, queue cards, audit rows), printed exactly as a template would print it.

``esc(value)`` is ``{{ value|force_escape }}`` for markup-safe values left alone, i.e.
Django's ``conditional_escape`` without its lazy-argument wrapper; ``text(value)`` is
``{{ value }}``: numbers and dates localized first. Only strings built from these are
marked safe by their callers.
"""

import re
from html import escape as _html_escape

from django.utils.formats import localize

_SPECIAL = re.compile("[&<>\"']").search


def esc(value):
    """``conditional_escape(value)``, the same output at a fraction of its cost."""
    if type(value) is str:  # the common case, first: a plain str is never safe markup
        # Most values (names, ids, numbers) hold nothing to escape: one scan, not five.
        return _html_escape(value) if _SPECIAL(value) else value
    if hasattr(value, "__html__"):
        return value.__html__()
    return _html_escape(str(value))


def text(value):
    """``{{ value }}``: numbers and dates localized, then escaped (None prints "None")."""
    return esc(localize(value))
