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
from tests.infusion.conftest import order_of, record_consent

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


# --- SAE report, out of the refrigerator, sign all, episode update ------------------------
# Each: in the services, the wrong role is refused and the right role succeeds; over HTTP,
# the wrong role gets 403, another ward's staff 404, and the right role's write lands.

MORE_ALLOWED = {
    "sae_report": {"physician", "nurse"},
    "infusion_record_out_of_fridge": {"nurse"},
    "orders_sign_all": {"physician"},
    "episode_update": {"physician"},
}


def _before_the_start(episode, nurse):
    """Half an hour before the planned start: the consent recorded (B-CONSENT-1, so the
    orders may be signed), received, and a severe reaction recorded."""
    record_consent(episode, episode.opened_by)
    services.infusion_record_received(episode=episode, actor=nurse)
    return services.adverse_reaction_record(
        episode=episode, actor=nurse, reaction_type="fever", severity="severe", action="observed"
    )


def _more_actions(episode, reaction):
    later = episode.planned_start + timedelta(hours=1)
    return {
        "sae_report": lambda u: services.sae_report(
            reaction=reaction,
            actor=u,
            informed_whom="Physician on duty",
            informed_at=timezone.now(),
            description="Fever 39.5",
        ),
        "infusion_record_out_of_fridge": lambda u: services.infusion_record_out_of_fridge(
            episode=episode, actor=u
        ),
        "orders_sign_all": lambda u: services.orders_sign_all(
            episode=episode, actor=u, password=PASSWORD
        ),
        "episode_update": lambda u: services.episode_update(
            episode=episode,
            actor=u,
            data=episode_data(later, preparation_time=later - timedelta(hours=2)),
            reason="later",
            acknowledged=True,
        ),
    }


@pytest.mark.parametrize("action", sorted(MORE_ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_the_right_role_acts_and_the_others_are_refused(episode, nurse, role, action, request):
    import time_machine

    user = request.getfixturevalue(role)
    with time_machine.travel(episode.planned_start - timedelta(minutes=30), tick=False):
        reaction = _before_the_start(episode, nurse)
        call = _more_actions(episode, reaction)[action]
        if role in MORE_ALLOWED[action]:
            assert call(user) is not None
        else:
            with pytest.raises(PermissionDenied):
                call(user)
    assert _landed(action, episode, reaction) == (role in MORE_ALLOWED[action])


@pytest.mark.parametrize("action", sorted(MORE_ALLOWED))
def test_staff_of_another_ward_are_refused_these_too(episode, nurse, physician_b, nurse_b, action):
    import time_machine

    with time_machine.travel(episode.planned_start - timedelta(minutes=30), tick=False):
        call = _more_actions(episode, _before_the_start(episode, nurse))[action]
        for user in (physician_b, nurse_b):
            with pytest.raises(PermissionDenied):
                call(user)


def _http_cases(episode, reaction):
    later = timezone.localtime(episode.planned_start + timedelta(hours=1)).replace(
        second=0, microsecond=0
    )
    from tests.infusion.conftest import form_post

    edit = form_post(
        episode_data(later, preparation_time=later - timedelta(hours=2)),
        acknowledge="on",
        reason="later",
    )
    informed = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return {
        "sae_report": (
            f"/infusion/reactions/{reaction.pk}/sae/",
            {"informed_whom": "Dr Zhao", "informed_at": informed, "description": "Fever"},
        ),
        "infusion_record_out_of_fridge": (
            f"/infusion/episodes/{episode.pk}/chart/out-of-fridge/",
            {},
        ),
        "orders_sign_all": (
            f"/infusion/episodes/{episode.pk}/sign/",
            {"password": PASSWORD, "username": "doc"},  # the first signature: both (§11.200)
        ),
        "episode_update": (f"/infusion/episodes/{episode.pk}/edit/", edit),
    }


def _landed(action, episode, reaction):
    from infusion.models import OrderStatus, SeriousAdverseEventReport

    episode.refresh_from_db()
    return {
        "sae_report": SeriousAdverseEventReport.objects.filter(reaction=reaction).exists(),
        "infusion_record_out_of_fridge": episode.out_of_fridge_at is not None,
        "orders_sign_all": not episode.orders.filter(status=OrderStatus.DRAFT).exists(),
        "episode_update": _was_updated(episode),
    }[action]


def _was_updated(episode):
    from core.models import AuditEvent

    return AuditEvent.objects.filter(action="episode_update", object_id=str(episode.pk)).exists()


@pytest.mark.parametrize("action", sorted(MORE_ALLOWED))
def test_over_http_the_wrong_role_is_403_another_ward_404_and_the_right_role_writes(
    episode, physician, nurse, pharmacist, auditor, physician_b, nurse_b, login, action
):
    import time_machine

    users = {"physician": physician, "nurse": nurse, "pharmacist": pharmacist, "auditor": auditor}
    with time_machine.travel(episode.planned_start - timedelta(minutes=30), tick=False):
        reaction = _before_the_start(episode, nurse)
        url, data = _http_cases(episode, reaction)[action]
        for role, user in users.items():
            if role not in MORE_ALLOWED[action]:
                assert login(user).post(url, data).status_code == 403, role
        assert not _landed(action, episode, reaction)
        other = nurse_b if "nurse" in MORE_ALLOWED[action] else physician_b
        assert login(other).post(url, data).status_code == 404
        assert not _landed(action, episode, reaction)
        right = users[sorted(MORE_ALLOWED[action])[-1]]
        response = login(right).post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert _landed(action, episode, reaction)
