import ipaddress
import re
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

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


class UserLanguageMiddleware:
    """Pages follow the signed-in user's language (core.User.language), not a cookie or the
    browser: a ward tablet shared by an English and a Chinese nurse shows each their own,
    and the PDFs, e-mails and reminders they get use the same setting. Anonymous pages
    (the sign-in page) keep LocaleMiddleware's choice (cookie, then Accept-Language)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user_language(user)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


def user_language(user):
    """The user's chosen language code, or "" before the first sign-in chose one."""
    language = getattr(user, "language", "") or ""
    return language if language in dict(settings.LANGUAGES) else ""


class HtmxLoginRedirectMiddleware:
    """An htmx request from a signed-out browser (expired or deleted session) must never
    swap the sign-in page into a fragment: the browser would follow the redirect to
    /login/ and htmx would put that page inside the chart, with a nested form that posts
    to the wrong URL.

    The redirect to the sign-in page becomes `HX-Redirect` (django-htmx's recipe, status
    200 because htmx ignores the headers of a 3xx it never sees): htmx then loads the
    sign-in page as a whole page, with `next` set to the page the user was on
    (HX-Current-URL, not the POST-only URL of the action). static/js/keep-forms.js saves
    what was typed before htmx leaves the page, and puts it back when the user returns.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true":
            return response
        redirected = response.status_code in (301, 302, 303, 307, 308)
        location = response.get("Location", "") if redirected else response.get("HX-Redirect", "")
        login_path = reverse(settings.LOGIN_URL)
        parts = urlsplit(location)
        if parts.path != login_path:
            return response
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != REDIRECT_FIELD_NAME]
        page = htmx_current_page(request)
        if page:
            query.append((REDIRECT_FIELD_NAME, page))
        redirect_to = login_path + ("?" + urlencode(query) if query else "")
        if not redirected:  # already an HX-Redirect (a timeout, a polled badge): add next
            response["HX-Redirect"] = redirect_to
            return response
        answer = HttpResponse(status=200)
        answer["HX-Redirect"] = redirect_to
        return answer


def htmx_current_page(request):
    """The path (and query) of the page an htmx request came from, if it is this site's."""
    current = request.headers.get("HX-Current-URL", "")
    if not current or not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(current)
    if parts.path == reverse(settings.LOGIN_URL):
        return ""
    return parts.path + ("?" + parts.query if parts.query else "")
