"""Lists that stay fast however large the table grows: counts stop at a limit.

Counting every matching row is a full scan of the matches (``SELECT count(*)`` reads ten million rows
for a centre's decade). A list needs the exact figure only while it is small enough to page through;
past ``HOTLINE_LIST_COUNT_LIMIT`` (default 10,000) rows the count stops there, the page says
"10,000+ 件" and asks for filters, and pages beyond the limit are not offered — the way search
engines cap their result windows. Used by the ticket list, the workbench and the API
(``tickets.apis.pagination``); exact counts of a month or a unit come from the reports, which
aggregate.
"""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.core.paginator import Paginator


def count_limit() -> int:
    return max(1, int(settings.HOTLINE_LIST_COUNT_LIMIT))


def limited_count(queryset, limit: int | None = None) -> tuple[int, bool]:
    """``(count, limited)``: the number of rows up to ``limit``, and whether there are more. One
    ``SELECT count(*) FROM (… LIMIT limit + 1)``: unordered, so the database stops at the limit."""
    limit = count_limit() if limit is None else limit
    found = queryset.order_by()[: limit + 1].count()
    return min(found, limit), found > limit


class LimitedCountPaginator(Paginator):
    """A ``Paginator`` whose count stops at ``HOTLINE_LIST_COUNT_LIMIT``; ``limited`` says that
    there are more rows than counted (and than can be paged through)."""

    limited = False

    @cached_property
    def count(self) -> int:
        if not hasattr(self.object_list, "order_by"):  # a list: its length is known
            return len(self.object_list)
        count, self.limited = limited_count(self.object_list)
        return count
