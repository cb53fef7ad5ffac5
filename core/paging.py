"""Page numbers from a query string (``?page=…``), never trusted as integers, and a
paginator that counts a long list only as far as the pages near the one shown."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

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


class CountedAheadPaginator(Paginator):
    """A Paginator that counts no further than ``ahead`` pages past the page asked for.

    "Page 3 of 40" needs the whole list counted; a ward of 50,000 patients would cost
    more to count than the page costs to read. Up to ``ahead`` pages past the one asked
    for, the count is exact; beyond, ``more`` is set, the list has ``ahead`` pages past
    it as far as the pager knows (a "Next" link), and the pager says "Page 3 of more than
    23". Pass the page number asked for (``page_number``), then ``get_page`` it."""

    def __init__(self, object_list, per_page, asked, ahead=20):
        super().__init__(object_list, per_page)
        self.asked = asked
        self.ahead = ahead
        self.more = False

    @cached_property
    def count(self):
        limit = (self.asked + self.ahead) * self.per_page
        counted = self.object_list.order_by().values("pk")[: limit + 1].count()
        if counted > limit:
            self.more = True
            return limit
        return counted
