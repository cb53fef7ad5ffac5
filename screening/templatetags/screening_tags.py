from django import template
from django.utils.translation import gettext

from screening import fragments, selectors
from screening.forms import StartForm

register = template.Library()


@register.filter
def tr(value):
    """Translate a msgid held in a variable (engine titles, labels)."""
    return gettext(str(value)) if value else ""


@register.filter
def screening_window(protocol_version):
    """Days of the "during screening" window an evaluation used (from "1.0-w14")."""
    from screening.evaluation import window_of

    return window_of(protocol_version)


@register.simple_tag
def criteria_html(criteria):
    return fragments.criteria_html(criteria)


@register.simple_tag
def groups_html(groups, *, read_only, can_edit, window_days, rows_url="", copied=None):
    return fragments.groups_html(
        groups,
        read_only=read_only,
        can_edit=can_edit,
        window_days=window_days,
        rows_url=rows_url,
        copied=copied,
    )


@register.simple_tag
def missing_html(undecided):
    return fragments.missing_html(undecided)


@register.simple_tag
def out_of_band_html(sections, *, window_days, copied=None):
    return fragments.out_of_band_html(sections, window_days=window_days, copied=copied)


@register.simple_tag
def patient_screenings(patient):
    return selectors.patient_screenings(patient)


@register.simple_tag
def start_form():
    return StartForm()
