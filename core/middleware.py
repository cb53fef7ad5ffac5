import ipaddress
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from . import audit, context

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the entry
    of X-Forwarded-For that the outermost trusted proxy appended."""
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return remote_addr
    # Each proxy appends the address it received from; fewer entries than proxies means
    # the request skipped some, and the leftmost is then the best we know.
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return ipaddress.ip_address(candidate).compressed
    except ValueError:
        return remote_addr


class RequestContextMiddleware:
    """Gives every request an id (echoed as X-Request-ID) and records the client IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_current(
            context.RequestContext(request_id=request_id, client_ip=client_ip(request))
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def passive(view):
    """Mark a view (e.g. a polled badge) as not counting as user activity."""
    view.passive_request = True
    return view


class SessionTimeoutMiddleware:
    """Idle (default 30 min) and absolute (default 12 h) session timeouts.

    Django's login() already rotates the session key; this ends sessions that were left
    open on a shared ward tablet. Polling views marked @passive don't extend the session.
    """

    SESSION_STARTED = "_auth_started_at"
    LAST_SEEN = "_last_seen_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        now = time.time()
        session = request.session
        started = session.get(self.SESSION_STARTED)
        last_seen = session.get(self.LAST_SEEN, started)
        if started is None:
            session[self.SESSION_STARTED] = now
            session[self.LAST_SEEN] = now
            return None
        idle = now - (last_seen or now)
        age = now - started
        if (
            idle > settings.SESSION_IDLE_TIMEOUT_SECONDS
            or age > settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS
        ):
            kind = "idle" if idle > settings.SESSION_IDLE_TIMEOUT_SECONDS else "absolute"
            user = request.user
            audit.record("session_timeout", actor=user, new={"kind": kind})
            logout(request)
            login_url = f"{reverse(settings.LOGIN_URL)}?timeout={kind}"
            if getattr(request, "htmx", False):
                response = redirect(login_url)
                response.status_code = 204
                response["HX-Redirect"] = login_url
                return response
            return redirect(login_url)
        # Record activity at most once a minute: a session write on every request costs a
        # database UPDATE, and a 30-minute idle timeout does not need finer resolution.
        if not getattr(view_func, "passive_request", False) and now - (last_seen or 0) >= 60:
            session[self.LAST_SEEN] = now
        return None
