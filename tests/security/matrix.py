import inspect
from dataclasses import dataclass, field


@dataclass
class Entry:
    method: str
    kwargs: dict = field(default_factory=dict)  # url kwarg -> callable(world)
    expect: dict = field(default_factory=dict)  # role -> status
    data: dict | None = None  # POST body (default: empty = invalid form)
    query: str = ""


SIGNED_IN = ("physician", "nurse", "pharmacist", "auditor", "sysadmin", "other_ward")


def everyone(status, *, anon=302, **overrides):
    """Every signed-in role alike (pages of one's own account and session)."""
    expect = {r: status for r in SIGNED_IN}
    expect["anon"] = anon
    expect.update(overrides)
    return expect


def readers(status, *, anon=302, **overrides):
    """Every role that reads clinical records (the ward staff, the pharmacist, the
    auditor); the system administrator reads none: 403."""
    return everyone(status, anon=anon, sysadmin=403, **overrides)


def staff_only(status, *, other_ward=None, **overrides):
    """Physicians and nurses (ward staff who enter clinical data); others 403."""
    expect = {
        "anon": 302,
        "physician": status,
        "nurse": status,
        "pharmacist": 403,
        "auditor": 403,
        "sysadmin": 403,
        "other_ward": status if other_ward is None else other_ward,
    }
    expect.update(overrides)
    return expect


def entries_of(value):
    """A matrix value is one Entry or a tuple of them (a GET and a POST for form pages)."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def view_methods(callback):
    """The HTTP methods a URL's view answers, read from the view itself.

    Class-based views: the handlers they define among `http_method_names`. Function views:
    the list given to `require_http_methods` (`require_POST`, `require_GET`), found in the
    closures along the `__wrapped__` chain of the decorators. A function view with no such
    decorator answers any method; it takes POST when its code reads `request.POST` or tests
    for it, otherwise it is a page that ignores the body (GET).
    """
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return {
            m.upper()
            for m in view_class.http_method_names
            if m not in ("options", "head") and hasattr(view_class, m)
        }
    func = callback
    innermost = callback
    while func is not None:
        for cell in func.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if (
                isinstance(value, (list, tuple))
                and value
                and all(isinstance(v, str) and v in HTTP_METHODS for v in value)
            ):
                return set(value) - {"HEAD", "OPTIONS"}
        innermost = func
        func = getattr(func, "__wrapped__", None)
    source = inspect.getsource(innermost)
    if 'request.method != "POST"' in source:
        return {"POST"}  # it answers anything else with its own 405
    return {"GET", "POST"} if "request.POST" in source or '"POST"' in source else {"GET"}


HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
