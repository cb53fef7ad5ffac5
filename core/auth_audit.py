"""Audit login success, failure, lockout and logout (Django and axes send these as signals).

A failed sign-in or a lockout before authentication names nobody who is signed in: it
goes to the security log (core/security_log.py), not the clinical chain. The same signals
for a user who *is* signed in (a password re-entered for a signature or a password change)
are that user's refusals and stay in the chain.
"""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit, security_log
from .middleware import SessionTimeoutMiddleware


def _signed_in_user(request):
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


def _path(request):
    return request.path if request is not None else ""


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    now = time.time()
    request.session[SessionTimeoutMiddleware.SESSION_STARTED] = now
    request.session[SessionTimeoutMiddleware.LAST_SEEN] = now
    audit.record("login", actor=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    user = _signed_in_user(request)
    if user is not None:
        audit.record("login_failed", actor=user, new={"username": username})
    else:
        security_log.record("login_failed", username=username, path=_path(request))


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    username = str(username or "")[:150]
    user = _signed_in_user(request)
    if user is not None:
        audit.record("login_locked_out", actor=user, new={"username": username})
    else:
        security_log.record("login_locked_out", username=username, path=_path(request))


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record("logout", actor=user)
