"""Issue 16 (item 8): a form keeps what the user typed, with its error.

A browser draws ``<input type="number" value="abc">`` (or a date input holding
"2026-02-31") as an empty box: the server kept the typed text, but the person sees their
entry, or the prefilled value they were changing, silently gone. A number, date or time
input whose value did not read is therefore drawn as a text input, showing exactly what
was typed next to its error.
"""

from django import forms, template

register = template.Library()

TYPED_INPUTS = ("number", "date", "datetime-local", "time", "email")
NOT_FOR_TEXT = ("min", "max", "step")


@register.filter
def typed(field):
    """``{{ field|typed }}``: the field as usual, or as text when its value did not read."""
    widget = getattr(field.field, "widget", None)
    if not field.errors or getattr(widget, "input_type", None) not in TYPED_INPUTS:
        return field
    attrs = {k: v for k, v in widget.attrs.items() if k not in NOT_FOR_TEXT}
    if widget.input_type == "number":
        attrs.setdefault("inputmode", "decimal")
    return field.as_widget(widget=forms.TextInput(attrs=attrs))
