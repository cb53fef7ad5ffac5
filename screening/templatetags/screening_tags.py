from django import template
from django.utils.translation import gettext

from screening import kinds, selectors
from screening.forms import StartForm

register = template.Library()


@register.filter
def tr(value):
    """Translate a msgid held in a variable (engine titles, labels)."""
    return gettext(str(value)) if value else ""


@register.filter
def lines_html(lines, read_only=False):
    return kinds.lines_html(lines, read_only=bool(read_only))


@register.simple_tag
def patient_screenings(patient):
    return selectors.patient_screenings(patient)


@register.simple_tag
def start_form():
    return StartForm()
