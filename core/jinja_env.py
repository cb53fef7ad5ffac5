"""Filters for the Jinja2 fragments (core/jinja.py picks up ``FILTERS``).

``dj``: ``{{ value|dj }}`` prints ``value`` exactly as Django's ``{{ value }}`` does:
localized (numbers, dates), then escaped by Django's ``conditional_escape``. Jinja2's own
autoescaping writes ``'`` and ``"`` as ``&#39;`` and ``&#34;`` where Django writes
``&#x27;`` and ``&quot;``; a fragment moved out of a Django template (or out of Python
that printed it as Django does) keeps its bytes through this filter. Its result is
Django's safe string, which Jinja2 prints as it is (``__html__``), never escaped twice; a
value with nothing to escape is returned as it is (the common case, one scan).

``truncatechars``: Django's ``|truncatechars:n`` (``Truncator(value).chars(n)``).
"""

import re

from django.utils.formats import localize
from django.utils.html import escape
from django.utils.text import Truncator

_SPECIAL = re.compile("[&<>\"']").search


def dj(value):
    if type(value) is not str:
        if hasattr(value, "__html__"):
            return value  # markup already (a fragment, a translated Jinja2 string)
        value = str(localize(value))  # numbers and dates localized, lazy text translated
    if _SPECIAL(value) is None:
        return value  # nothing to escape: Jinja2's escaping leaves it as it is
    return escape(value)  # Django's escaping: a safe string


def truncatechars(value, length):
    return Truncator(value).chars(length)


FILTERS = {"dj": dj, "truncatechars": truncatechars}
