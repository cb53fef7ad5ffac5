"""core.compiled: a queryset's SQL compiled once per connection gives what the queryset
itself gives, for any values, in one query and without compiling again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, F, Window
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import compiled
from core.models import LabResult, Patient
from infusion.selectors import pharmacy_queue
from tests.factories import add_lab, add_weight, make_patient, make_user, make_ward
from tests.infusion.conftest import open_episode, sign_all

pytestmark = pytest.mark.django_db


def _patients_of(ward):
    return (
        Patient.objects.select_related("ward")
        .only("pk", "name", "date_of_birth", "ward__name", "ward__code")
        .filter(ward_id=ward)
        .annotate(total=Window(Count("pk")), shouting=F("name"))
        .order_by("pk")
    )


def _fields(obj, model):
    return {
        f.attname: getattr(obj, f.attname)
        for f in model._meta.concrete_fields
        if f.attname in obj.__dict__
    }


@pytest.fixture
def wards():
    a, b = make_ward("cmp-a"), make_ward("cmp-b")
    for ward, n in ((a, 3), (b, 2)):
        for _ in range(n):
            make_patient(ward)
    return a, b


def test_model_rows_are_the_querysets_own_for_each_value(wards):
    for ward in wards:
        mine = compiled.rows("patients-of", _patients_of, ward=ward.pk)
        theirs = list(_patients_of(ward.pk))
        assert [p.pk for p in mine] == [p.pk for p in theirs] and mine
        for a, b in zip(mine, theirs, strict=True):
            assert _fields(a, Patient) == _fields(b, Patient)
            assert a.get_deferred_fields() == b.get_deferred_fields()  # .only() kept
            assert (a.total, a.shouting) == (b.total, b.shouting) == (len(theirs), b.name)
            assert a.ward.name == b.ward.name and a.ward.code == ward.code  # select_related
            assert (a._state.adding, a._state.db) == (False, "default")


def test_it_compiles_once_and_runs_one_query_a_call(wards, monkeypatch):
    a, b = wards
    compiled.rows("patients-of-once", _patients_of, ward=a.pk)
    compiles = []
    real = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *x, **k: compiles.append(1) or real(self, *x, **k)
    )
    with CaptureQueriesContext(connection) as queries:
        rows_b = compiled.rows("patients-of-once", _patients_of, ward=b.pk)
        rows_a = compiled.rows("patients-of-once", _patients_of, ward=a.pk)
    assert len(queries) == 2 and not compiles
    assert {p.ward_id for p in rows_b} == {b.pk} and {p.ward_id for p in rows_a} == {a.pk}
    assert len(rows_b) == 2 and len(rows_a) == 3


def test_values_list_rows_with_a_list_of_values_and_converters(wards, physician):
    a, _b = wards
    patients = list(Patient.objects.filter(ward=a).order_by("pk"))
    for p in patients:
        add_lab(p, physician, "platelets", 180, "10^9/L")

    def build(ids):
        return (
            LabResult.objects.filter(patient_id__in=ids)
            .values_list("pk", "patient__name", "value", "observed_at")
            .order_by("pk")
        )

    for ids in ([patients[0].pk], [patients[1].pk, patients[2].pk]):
        mine = compiled.rows("labs-of", build, ids=ids)
        assert mine == list(build(ids)) and mine
        assert all(row[3].tzinfo is not None for row in mine)  # aware, as the ORM gives them


def test_nothing_to_match_needs_no_query(wards):
    with CaptureQueriesContext(connection) as queries:
        assert (
            compiled.rows(
                "labs-none",
                lambda ids: LabResult.objects.filter(patient_id__in=ids).values_list("pk"),
                ids=[],
            )
            == []
        )
        assert compiled.rows("patients-none", lambda: Patient.objects.none()) == []
    assert len(queries) == 0


def test_a_value_written_into_the_sql_text_is_refused():
    def build(n):  # the value becomes part of the SQL, not a parameter
        return Patient.objects.annotate(n=RawSQL(str(n), ())).values_list("pk", "n")  # noqa: S611

    with pytest.raises(ValueError, match="key it instead"):
        compiled.rows("inlined", build, n=3)


def test_a_pharmacist_of_each_ward_sees_only_their_ward_from_the_same_compiled_queue():
    pages = {}
    for code in ("cq-a", "cq-b"):
        ward = make_ward(code)
        doctor = make_user("physician", ward, investigator=True)
        nurse = make_user("nurse", ward)
        patient = make_patient(ward)
        add_weight(patient, nurse, "60", when=timezone.now() - timedelta(days=1))
        add_lab(patient, nurse, "platelets", 180, "10^9/L", when=timezone.now() - timedelta(days=1))
        episode = open_episode(patient, doctor)
        sign_all(episode, doctor)
        pages[code] = (make_user("pharmacist", ward), episode)
    for pharmacist, episode in pages.values():
        items, total, _page = pharmacy_queue(pharmacist, 1)
        assert [item.episode.pk for item in items] == [episode.pk] and total == 1


def test_only_integer_values_take_a_stand_in():
    with pytest.raises(TypeError, match="integer"):
        compiled.rows("by-name", lambda name: Patient.objects.filter(name=name), name="Alice")
