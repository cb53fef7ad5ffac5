"""Page numbers from a query string (``?page=…``), never trusted as integers."""

# Far beyond any list of the app (25 a page); a larger number asks for the last page,
# which every list clamps to. Keeps OFFSET arithmetic inside PostgreSQL's bigint.
MAX_PAGE = 1_000_000


def page_number(raw, default=1):
    """1 ≤ page ≤ MAX_PAGE: ``default`` for anything that is not a plain number, MAX_PAGE
    for an absurd one (``99999999999999999999999`` is read as "the last page")."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return default
    if len(raw) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return max(1, min(int(raw), MAX_PAGE))
