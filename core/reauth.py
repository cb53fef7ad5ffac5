"""Re-authentication: the password typed again to sign, verify, co-sign an override or
change one's password, checked in one place (`verify_password`).

Lockout. Every wrong password (or wrong username) counts against the user it was typed
for: a second physician's against the second physician. REAUTH_FAILURE_LIMIT of them
(default LOGIN_FAILURE_LIMIT) without a success in between, each within the cool-off
(LOGIN_COOLOFF_MINUTES) of the one before, lock the user as a sign-in lockout does: the
session that typed the last one is signed out, any other session of theirs ends at its
next request, and /login/ refuses them with django-axes' lockout page until the cool-off
has passed (`LockoutBackend`). A success resets the count. Audited: every refusal
(`signature_refused`, `password_change_refused`) and the lockout (`reauth_lockout`).
An empty password or a missing username is refused (and audited) but not counted: nothing
was guessed.

21 CFR Part 11 §11.200(a)(1)(i). The first signing in a continuous session uses both
components, username and password; later ones in the same session the password only. Once
both are verified the session remembers its user as identified, tied to the time the
session signed in (a new sign-in, or a new session, asks again). A second signer who
co-signs in someone else's session (an override's second physician) is named in the form
and types their password each time; their signature never marks the session.

The counts live on the user row (three columns), which every request reads anyway, so
ending another session of a locked user costs no query.

Services call `verify_password` before their transaction: a refusal raised inside one
would roll the count back with it. The request (its session, and the username typed beside
the password) comes from `ReauthMiddleware` through a context variable, as the audit
trail's request id does; without a request (a shell, a task, a test calling a service)
there is no session to sign in, and only the password is checked and counted.
"""

import contextvars

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import audit
from .middleware import SessionTimeoutMiddleware

USERNAME_FIELD = "username"  # the signature form's field typed beside the password
IDENTIFIED = "_signature_identified"  # session key: {"user": pk, "since": sign-in time}

_request = contextvars.ContextVar("reauth_request", default=None)


class Refused(Exception):
    """Not verified; `message` says why (translated), for the user."""

    def __init__(self, message, *, code):
        super().__init__(message)
        self.message = message
        self.code = code


class LockedOut(Exception):
    """The session's own user is locked out: `ReauthMiddleware` signs them out."""

    def __init__(self, user):
        super().__init__(f"user {user.pk} is locked out after failed re-authentication")
        self.user = user


def cool_off():
    return settings.AXES_COOLOFF_TIME


def locked_until(locked_at):
    """When a lockout that began at `locked_at` ends (None: not locked)."""
    return locked_at + cool_off() if locked_at is not None else None


def is_locked(locked_at, now):
    return locked_at is not None and now < locked_until(locked_at)


# --- The session ---------------------------------------------------------------------


def current_request():
    return _request.get()


def _own(request, user):
    """Is `user` the signed-in user of this request (not a co-signer)?"""
    if request is None or not hasattr(request, "user"):
        return False
    return request.user.is_authenticated and request.user.pk == user.pk


def _signed_in_at(request):
    return request.session.get(SessionTimeoutMiddleware.SESSION_STARTED)


def needs_identification(request):
    """True when the request's user has not yet signed with username and password in
    this session (§11.200(a)(1)(i)): the signature forms then ask for the username."""
    if request is None or not request.user.is_authenticated:
        return False
    mark = request.session.get(IDENTIFIED) or {}
    return not (mark.get("user") == request.user.pk and mark.get("since") == _signed_in_at(request))


def _typed_username(request):
    if request is None or request.method != "POST":
        return ""
    return request.POST.get(USERNAME_FIELD, "").strip()


# --- The check -------------------------------------------------------------------------


def verify_password(user, password, *, obj, action, signing=True):
    """Check the password `user` typed again, for `action` on `obj`; return on success.

    Raises `Refused` (a message for the user; the caller turns it into its own refusal)
    or, when the session's own user is or becomes locked out, `LockedOut`. `signing`:
    an electronic signature (§11.200 applies); False for the password change.
    """
    request = current_request()
    own = _own(request, user)
    now = timezone.now()
    model = get_user_model()
    failures, failed_at, locked_at = (
        model._default_manager.filter(pk=user.pk)
        .values_list("reauth_failures", "reauth_failed_at", "reauth_locked_at")
        .get()
    )
    refusal = "signature_refused" if signing else "password_change_refused"
    fail = _Failure(user, obj=obj, action=action, refusal=refusal)
    if is_locked(locked_at, now):
        fail.record("locked out")
        if own:
            raise LockedOut(user)
        raise Refused(
            _("%(name)s is locked out after too many wrong passwords; nothing was signed.")
            % {"name": _name(user)},
            code="locked",
        )
    typed = _typed_username(request) if own and signing else ""
    if own and signing and not typed and needs_identification(request):
        fail.record("username required")
        raise Refused(
            _(
                "This is your first signature since you signed in: enter your username "
                "and your password; nothing was signed."
            ),
            code="username",
        )
    if not password:
        fail.record("no password")
        raise Refused(_("The password is not correct; nothing was signed."), code="password")
    wrong_username = bool(typed) and typed != user.get_username()
    if not user.check_password(password) or wrong_username:
        failures, locked = fail.count(now, "wrong username" if wrong_username else "wrong password")
        if locked and own:
            raise LockedOut(user)
        if locked:
            raise Refused(
                _(
                    "The password is not correct; nothing was signed. %(name)s is now locked "
                    "out for %(minutes)s minutes after too many wrong passwords."
                )
                % {"name": _name(user), "minutes": _minutes()},
                code="locked",
            )
        if not signing:
            message = _("Your old password was entered incorrectly. Please enter it again.")
        elif wrong_username:
            message = _("This is not the username you signed in with; nothing was signed.")
        else:
            message = _("The password is not correct; nothing was signed.")
        left = settings.REAUTH_FAILURE_LIMIT - failures
        if left <= 2:
            message += " " + ngettext(
                "After one more wrong attempt this account is locked for %(minutes)s minutes.",
                "After %(count)s more wrong attempts this account is locked for %(minutes)s "
                "minutes.",
                left,
            ) % {"count": left, "minutes": _minutes()}
        raise Refused(message, code="password")
    if failures or failed_at:
        model._default_manager.filter(pk=user.pk).update(reauth_failures=0, reauth_failed_at=None)
    # Also on the instance: a caller that saves the whole user (the password change) must
    # not write the old count back.
    user.reauth_failures, user.reauth_failed_at, user.reauth_locked_at = 0, None, locked_at
    if own and signing:
        request.session[IDENTIFIED] = {"user": user.pk, "since": _signed_in_at(request)}


def _recent(failed_at, now):
    return failed_at is not None and failed_at > now - cool_off()


def _minutes():
    return int(cool_off().total_seconds() // 60)


def _name(user):
    return user.get_full_name() or user.get_username()


class _Failure:
    def __init__(self, user, *, obj, action, refusal):
        self.user, self.obj, self.action, self.refusal = user, obj, action, refusal

    def record(self, reason, **extra):
        audit.record(
            self.refusal,
            actor=self.user,
            obj=self.obj,
            patient_id=getattr(self.obj, "patient_id", None),
            new={"action": self.action, **extra},
            reason=reason,
        )

    def count(self, now, reason):
        """One more failure on top of the recent ones, under the user's row lock; at the
        limit, the lockout. Returns (failures, locked)."""
        model = get_user_model()
        with transaction.atomic():
            # The row lock makes concurrent failures count one by one.
            failures, failed_at = (
                model._default_manager.select_for_update()
                .filter(pk=self.user.pk)
                .values_list("reauth_failures", "reauth_failed_at")
                .get()
            )
            failures = (failures if _recent(failed_at, now) else 0) + 1
            locked = failures >= settings.REAUTH_FAILURE_LIMIT
            changes = {"reauth_failures": failures, "reauth_failed_at": now}
            if locked:
                changes["reauth_locked_at"] = now
            model._default_manager.filter(pk=self.user.pk).update(**changes)
            for name, value in changes.items():
                setattr(self.user, name, value)
            self.record(reason, failures=failures)
            if locked:
                audit.record(
                    "reauth_lockout",
                    actor=self.user,
                    obj=self.obj,
                    patient_id=getattr(self.obj, "patient_id", None),
                    new={
                        "action": self.action,
                        "failures": failures,
                        "locked_until": locked_until(now),
                    },
                    reason=f"{failures} wrong passwords",
                )
        return failures, locked


# --- Sign-in and sessions ----------------------------------------------------------------


class LockoutBackend:
    """Refuses a sign-in while the user is locked out by failed re-authentication, with
    django-axes' lockout page (listed after axes' backend, before the one that signs in)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username:
            return None
        model = get_user_model()
        locked_at = (
            model._default_manager.filter(**{model.USERNAME_FIELD: username})
            .values_list("reauth_locked_at", flat=True)
            .first()
        )
        if not is_locked(locked_at, timezone.now()):
            return None
        if request is not None:
            request.axes_locked_out = True  # AxesMiddleware answers with the lockout page
        raise PermissionDenied("locked out after failed re-authentication")

    # No get_user: nobody is ever signed in through this backend (and the test client's
    # force_login picks the first backend that has one).


class ReauthMiddleware:
    """Lends `verify_password` the request; signs out a user locked out by it (this
    session at once, their other sessions at their next request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.reauth_locked_at is None:
            return None
        started = _signed_in_at(request)
        # A session signed in before the user's last lockout ends, whoever locked it.
        if started is not None and started < user.reauth_locked_at.timestamp():
            return _sign_out(request, user)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, LockedOut) and _own(request, exception.user):
            return _sign_out(request, exception.user)
        return None


def _sign_out(request, user):
    left = locked_until(user.reauth_locked_at) - timezone.now()
    logout(request)
    if left.total_seconds() > 0:
        message = _(
            "Too many wrong passwords were typed for your account: you were signed out, and "
            "you can sign in again in %(minutes)s minutes."
        ) % {"minutes": max(1, -int(-left.total_seconds() // 60))}
    else:
        message = _(
            "Too many wrong passwords were typed for your account: you were signed out. "
            "Sign in again."
        )
    messages.error(request, message)
    return redirect(settings.LOGIN_URL)
