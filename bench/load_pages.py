"""Pages the apps add to the load benchmark (bench/load.py reads `PAGES`).

Each entry is (name, username, fn(user, rng) -> (status, body, elapsed)); `user` is
bench/load.py's signed-in `User` with `request(method, path, body=None, headers=None)`.
Apps append their own entries below.
"""

import re

PAGES = []
# Hooks run once per virtual user, given its signed-in sessions by username, before the
# clock starts: what a page needs read and parsed up front (links, form fields).
PREPARE = []


# --- infusion ----------------------------------------------------------------------------

_EPISODE_LINK = re.compile(rb"/infusion/episodes/(\d+)/")


def _episode_ids(user):
    """The episodes the user's ward has (read once per virtual user, not timed)."""
    if not hasattr(user, "_infusion_episode_ids"):
        _status, body, _elapsed = user.request("GET", "/infusion/?show=all")
        user._infusion_episode_ids = sorted({int(i) for i in _EPISODE_LINK.findall(body)}) or [0]
    return user._infusion_episode_ids


def _order_sheet_pdf(user, rng):
    episode = rng.choice(_episode_ids(user))
    return user.request("GET", f"/infusion/episodes/{episode}/order-sheet.pdf")


def _prepare_infusion(sessions):
    _episode_ids(sessions["dr.li"])


PREPARE.append(_prepare_infusion)

PAGES += [
    ("pharmacist queue", "pharm.chen", lambda u, r: u.request("GET", "/infusion/queue/")),
    ("order sheet PDF", "dr.li", _order_sheet_pdf),
]


# --- screening ---------------------------------------------------------------------------

import html  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

_SCREENING_LINK = re.compile(rb'href="/screening/(\d+)/"')


class _FormFields(HTMLParser):
    """What a browser would post for the screening form (inputs, checked boxes, selects)."""

    def __init__(self):
        super().__init__()
        self.fields = []
        self._select = self._first = self._chosen = None
        self._inside = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "screening-form":
            self._inside = True
        if not self._inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif a.get("type") != "submit":
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._first, self._chosen = a.get("name"), None, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._first = value if self._first is None else self._first
            if "selected" in a:
                self._chosen = value

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            chosen = self._chosen if self._chosen is not None else self._first
            self.fields.append((self._select, chosen or ""))
            self._select = None
        elif tag == "form":
            self._inside = False


def _draft_ids(user):
    """Draft screenings on the user's ward (read once per virtual user, not timed)."""
    if not hasattr(user, "_screening_draft_ids"):
        _status, body, _elapsed = user.request("GET", "/screening/?status=draft")
        user._screening_draft_ids = sorted({int(i) for i in _SCREENING_LINK.findall(body)}) or [0]
    return user._screening_draft_ids


def _form_fields(user, pk):
    """The fields a browser would post for screening `pk` (read once, not timed)."""
    cache = user.__dict__.setdefault("_screening_fields", {})
    if pk not in cache:
        _status, body, _elapsed = user.request("GET", f"/screening/{pk}/")
        parser = _FormFields()
        parser.feed(body.decode("utf-8", "replace"))
        cache[pk] = [(k, v) for k, v in parser.fields if k != "general.survival_gt_6_months"]
    return cache[pk]


def _screening_page(user, rng):
    """The full screening page (form, chips, banner, missing-to-decide panel)."""
    return user.request("GET", f"/screening/{rng.choice(_draft_ids(user))}/")


_BASE = re.compile(rb'<input type="hidden" name="_base" id="form-base" value="([^"]*)"')


def _screening_live_evaluation(user, rng):
    """The htmx re-evaluation a changed field sends: autosave, evaluate, render the chips.

    As in a browser, the field changes from what the page last showed (so the draft is
    saved and audited), and ``_base``, the facts the page was drawn from, is the one the
    previous answer swapped in out of band; other virtual users editing the same draft
    meanwhile are merged in, as for two clinicians on one draft.
    """
    pk = rng.choice(_draft_ids(user))
    page = _form_fields(user, pk)
    fields = [(k, v) for k, v in page if k != "_base"]
    shown = user.__dict__.setdefault("_screening_survival", {})
    answer = "no" if shown.get(pk) == "yes" else "yes"
    bases = user.__dict__.setdefault("_screening_bases", {})
    fields += [
        ("general.survival_gt_6_months", answer),
        ("_base", bases.get(pk, dict(page).get("_base", ""))),
    ]
    status, body, elapsed = user.request(
        "POST", f"/screening/{pk}/evaluate/", fields, headers={"HX-Request": "true"}
    )
    match = _BASE.search(body)
    if status == 200 and match:
        bases[pk] = html.unescape(match.group(1).decode())
        shown[pk] = answer
    return status, body, elapsed


def _prepare_screening(sessions):
    user = sessions["dr.li"]
    for pk in _draft_ids(user):
        _form_fields(user, pk)


PREPARE.append(_prepare_screening)

PAGES += [
    ("screening page", "dr.li", _screening_page),
    ("screening live re-evaluation (htmx)", "dr.li", _screening_live_evaluation),
]
