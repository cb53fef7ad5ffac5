"""Per-request context (request id, client IP, user) for the audit trail.

Set by RequestContextMiddleware; read by core.audit.record so service functions need not
pass the request around. Celery tasks run without it (request id "", IP None).
"""

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_ip: str | None = None


_EMPTY = RequestContext()
_current = contextvars.ContextVar("request_context", default=None)


def current():
    return _current.get() or _EMPTY


def set_current(ctx):
    return _current.set(ctx)


def reset(token):
    _current.reset(token)
