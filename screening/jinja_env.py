"""What the screening app's Jinja2 templates (screening/jinja2/screening/) need beyond
core.jinja's environment: the list kinds that get "+ add a row" and the most rows a list
holds. Names are prefixed: Jinja2 globals are shared by every app."""

from .kinds import LIST_KINDS, MAX_ROWS

GLOBALS = {"screening_list_kinds": LIST_KINDS, "screening_max_rows": MAX_ROWS}
