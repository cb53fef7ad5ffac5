from dataclasses import dataclass, field


@dataclass
class Entry:
    method: str
    kwargs: dict = field(default_factory=dict)  # url kwarg -> callable(world)
    expect: dict = field(default_factory=dict)  # role -> status
    data: dict | None = None  # POST body (default: empty = invalid form)
    query: str = ""


def everyone(status, *, anon=302, **overrides):
    expect = {r: status for r in ("physician", "nurse", "pharmacist", "admin", "other_ward")}
    expect["anon"] = anon
    expect.update(overrides)
    return expect


def staff_only(status, *, other_ward=None, **overrides):
    """Physicians and nurses (ward staff who enter clinical data); others 403."""
    expect = {
        "anon": 302,
        "physician": status,
        "nurse": status,
        "pharmacist": 403,
        "admin": 403,
        "other_ward": status if other_ward is None else other_ward,
    }
    expect.update(overrides)
    return expect
