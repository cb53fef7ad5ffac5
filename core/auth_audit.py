"""Audit login success, failure, lockout and logout (Django and axes send these as signals)."""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit
from .middleware import SessionTimeoutMiddleware


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    now = time.time()
    request.session[SessionTimeoutMiddleware.SESSION_STARTED] = now
    request.session[SessionTimeoutMiddleware.LAST_SEEN] = now
    audit.record("login", actor=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit.record("login_failed", new={"username": str(credentials.get("username", ""))[:150]})


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    audit.record("login_locked_out", new={"username": str(username or "")[:150]})


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record("logout", actor=user)
