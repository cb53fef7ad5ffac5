from django import template
from django.utils.translation import gettext

from screening import fragments, selectors
from screening.forms import StartForm

register = template.Library()


@register.filter
def tr(value):
    """Translate a msgid held in a variable (engine titles, labels)."""
    return gettext(str(value)) if value else ""


@register.simple_tag
def criteria_html(criteria):
    return fragments.criteria_html(criteria)


@register.simple_tag
def groups_html(groups, *, read_only, can_edit, window_days):
    return fragments.groups_html(
        groups, read_only=read_only, can_edit=can_edit, window_days=window_days
    )


@register.simple_tag
def missing_html(missing):
    return fragments.missing_html(missing)


@register.simple_tag
def out_of_band_html(sections, *, window_days):
    return fragments.out_of_band_html(sections, window_days=window_days)


@register.simple_tag
def patient_screenings(patient):
    return selectors.patient_screenings(patient)


@register.simple_tag
def start_form():
    return StartForm()
