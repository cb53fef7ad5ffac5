"""The project's model base: choice labels looked up in a table built once per field."""

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


class Model(models.Model):
    """Concrete models inherit this instead of ``models.Model``.

    Django's ``get_FOO_display()`` rebuilds a dict of every choice on each call, and
    hashing a lazy label translates it: two labels on each of 40 order rows cost the
    pharmacy queue a few milliseconds a page. The choices of our fields are fixed, so the
    table is built once per field; the label itself is still translated per call, in
    the reader's language.
    """

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        labels = field.__dict__.get("_display_labels")
        if labels is None:
            labels = {make_hashable(value): label for value, label in field.flatchoices}
            field.__dict__["_display_labels"] = labels
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)
