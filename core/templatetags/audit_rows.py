"""``{{ page|audit_rows }}``: the audit browser's table rows.

A page of 25 events is 225 cells; as a Django template loop each cell costs a variable
lookup, a filter and a localize/escape round, about a third of the page's CPU. The rows
are one Jinja2 fragment (core/jinja2/core/audit_rows.jinja) rendered once per page,
every value printed as ``{{ value }}`` prints it (localized, then escaped).
"""

from django import template

from core.jinja import fragment
from core.models import Role

register = template.Library()

_ROLE_LABELS = dict(Role.choices)  # lazy labels: translated when printed


@register.filter
def audit_rows(events):
    return fragment("core/audit_rows.jinja", events=events, roles=_ROLE_LABELS)
