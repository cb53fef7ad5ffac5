"""Who may do what, enforced by the services whatever the page shows (one row per action)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from infusion import services
from infusion.demo import episode_data
from infusion.models import OrderKind
from tests.factories import PASSWORD
from tests.infusion.conftest import order_of

pytestmark = pytest.mark.django_db

ROLES = ("physician", "nurse", "pharmacist", "auditor")


def _actions(episode):
    dexa = order_of(episode, OrderKind.DEXAMETHASONE)
    later = timezone.now() + timedelta(days=5)
    return {
        "episode_open": lambda u: services.episode_open(
            patient=episode.patient, actor=u, data=episode_data(later), acknowledged=True
        ),
        "episode_cancel": lambda u: services.episode_cancel(episode=episode, actor=u, reason="r"),
        "order_sign": lambda u: services.order_sign(order=dexa, actor=u, password=PASSWORD),
        "order_verify": lambda u: services.order_verify(order=dexa, actor=u, password=PASSWORD),
        "order_reject": lambda u: services.order_reject(order=dexa, actor=u, reason="r"),
        "order_cancel": lambda u: services.order_cancel(order=dexa, actor=u, reason="r"),
        "order_edit": lambda u: services.order_edit(
            order=dexa, actor=u, changes={"note": "n"}, reason="r"
        ),
        "order_administer": lambda u: services.order_administer(order=dexa, actor=u),
        "order_complete": lambda u: services.order_complete(order=dexa, actor=u),
        "cyclophosphamide_order_create": lambda u: services.cyclophosphamide_order_create(
            episode=episode, actor=u, scheduled_at=later + timedelta(days=10), dose_mg=Decimal(500)
        ),
        "infusion_record_received": lambda u: services.infusion_record_received(
            episode=episode, actor=u
        ),
        "infusion_start": lambda u: services.infusion_start(episode=episode, actor=u),
        "infusion_rate_step": lambda u: services.infusion_rate_step(
            episode=episode, actor=u, rate_ml_per_min=3
        ),
        "infusion_end": lambda u: services.infusion_end(episode=episode, actor=u),
        "vitals_record": lambda u: services.vitals_record(
            episode=episode, actor=u, values={"pulse_per_min": 80}
        ),
        "adverse_reaction_record": lambda u: services.adverse_reaction_record(
            episode=episode, actor=u, reaction_type="fever", severity="mild", action="observed"
        ),
    }


# The roles that may attempt each action (their attempt then meets the state checks).
ALLOWED = {
    "episode_open": {"physician"},
    "episode_cancel": {"physician"},
    "order_sign": {"physician"},
    "order_verify": {"pharmacist"},
    "order_reject": {"pharmacist"},
    "order_cancel": {"physician"},
    "order_edit": {"physician"},
    "order_administer": {"nurse"},
    "order_complete": {"nurse"},
    "cyclophosphamide_order_create": {"physician"},
    "infusion_record_received": {"nurse"},
    "infusion_start": {"nurse"},
    "infusion_rate_step": {"nurse"},
    "infusion_end": {"nurse"},
    "vitals_record": {"nurse"},
    "adverse_reaction_record": {"physician", "nurse"},
}


@pytest.mark.parametrize("action", sorted(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_or_may_not_act(signed_episode, role, action, request):
    user = request.getfixturevalue(role)
    call = _actions(signed_episode)[action]
    if role in ALLOWED[action]:
        try:
            call(user)
        except services.ActionRefused:
            pass  # allowed to try; the episode's state may still say no
    else:
        with pytest.raises(PermissionDenied):
            call(user)


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_staff_of_another_ward_may_not_act(signed_episode, physician_b, nurse_b, action):
    call = _actions(signed_episode)[action]
    for user in (physician_b, nurse_b):
        with pytest.raises(PermissionDenied):
            call(user)
