"""Filters for the infusion app's Jinja2 fragments (core/jinja.py picks up ``FILTERS``):
the same functions as the Django filters of the same names in infusion_tags."""

from infusion.templatetags.infusion_tags import (
    citation,
    dose_text,
    drug_label,
    plain_decimal,
    route_label,
    voided_text,
)

FILTERS = {
    "citation": citation,
    "dose_text": dose_text,
    "drug_label": drug_label,
    "plain_decimal": plain_decimal,
    "route_label": route_label,
    "voided_text": voided_text,
}
