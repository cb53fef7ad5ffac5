"""Who may see and change what. One helper per object type; views call these.

Staff see only their own ward's patients: another ward's patient is a 404 (we do not
confirm that the record exists) and the attempt is audited. Auditors read every
ward and change no clinical data.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import audit
from .models import Patient, Role


def patients_for_user(user):
    qs = Patient.objects.select_related("ward")
    if user.role == Role.AUDITOR:
        return qs
    if user.ward_id is None or user.role is None:
        return qs.none()
    return qs.filter(ward_id=user.ward_id)


def get_patient_for_user(user, pk):
    return get_for_user(
        user, Patient.objects.select_related("ward"), pk, ward_path="ward", patient_path="pk"
    )


def get_for_user(user, queryset, pk, *, ward_path, patient_path):
    """The object ``pk`` of ``queryset`` if the user's ward holds it (auditors: any).

    Otherwise 404, saying no more than "not on your ward"; when the object exists on
    another ward the attempt is audited ("access_denied", with the object's patient, found
    through ``patient_path``). The one check behind every patient, screening, episode,
    order and reaction page."""
    model = queryset.model
    try:
        return scoped_for_user(user, queryset, ward_path=ward_path).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        pass
    found = (
        list(model._default_manager.filter(pk=pk).values_list(patient_path, flat=True)[:1])
        if str(pk).isascii() and str(pk).isdigit()
        else []
    )
    if found:
        audit.record(
            "access_denied",
            actor=user,
            object_type=model._meta.label,
            object_id=pk,
            patient_id=found[0],
            new={"reason": "other ward"},
        )
    raise Http404(f"No such {model._meta.model_name} on your ward.")


def scoped_for_user(user, queryset, *, ward_path="patient__ward"):
    """Any queryset of objects that belong to a ward, restricted to the user's ward."""
    if user.role == Role.AUDITOR:
        return queryset
    if user.ward_id is None or user.role is None:
        return queryset.none()
    return queryset.filter(**{f"{ward_path}_id": user.ward_id})


def require_perm(perm):
    """403 (audited by the 403 handler) unless the user holds the permission."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied(perm)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def require_role(*roles):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied("role")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
