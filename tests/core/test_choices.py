"""Choice labels (``get_FOO_display``) through the project's model base."""

from django.utils import translation

from core.models import Patient, ReferenceRange
from infusion.models import Order, OrderKind, OrderStatus


def test_it_shows_the_label_in_the_readers_language():
    patient = Patient(sex="F")
    with translation.override("en"):
        assert patient.get_sex_display() == "Female"
    with translation.override("zh-hans"):
        assert patient.get_sex_display() == "女"
    with translation.override("en"):  # the table keeps labels, not one language's text
        assert patient.get_sex_display() == "Female"


def test_every_choice_of_a_field_has_its_own_label():
    for kind in OrderKind:
        assert Order(kind=kind).get_kind_display() == kind.label
    for status in OrderStatus:
        assert Order(status=status).get_status_display() == status.label


def test_a_value_outside_the_choices_shows_as_it_is():
    assert Patient(sex="X").get_sex_display() == "X"
    assert ReferenceRange(sex="").get_sex_display() == ""
    assert Patient(sex=None).get_sex_display() is None
