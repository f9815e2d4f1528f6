"""Lists that stay fast however large the table grows: counts stop at a limit.

Counting every matching row is a full scan of the matches (``SELECT count(*)`` reads ten million rows
for a centre's decade). A list needs the exact figure only while it is small enough to page through;
past ``HOTLINE_LIST_COUNT_LIMIT`` (default 10,000) rows the count stops there, the page says
"10,000+ 件" and asks for filters, and pages beyond the limit are not offered — the way search
engines cap their result windows. Used by the ticket list, the workbench and the API
(``tickets.apis.pagination``); exact counts of a month or a unit come from the reports, which
aggregate.

A keyword search is not counted at all (``tickets.search.search_is_counted``): its matches are spread
over the whole table, so counting even the first 10,000 of a common word reads 10,000 table pages
(~3 s at 10,000,000 tickets), while its first page, newest first, reads a few hundred rows. Such a
list pages by "next" — each page fetches one row more than it shows to know whether another follows —
and says how many it found only when the last page is reached.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connections, transaction
from django.utils import timezone


def count_limit() -> int:
    return max(1, int(settings.HOTLINE_LIST_COUNT_LIMIT))


def limited_count(queryset, limit: int | None = None) -> tuple[int, bool]:
    """``(count, limited)``: the number of rows up to ``limit``, and whether there are more. One
    ``SELECT count(*) FROM (… LIMIT limit + 1)``: unordered, so the database stops at the limit."""
    limit = count_limit() if limit is None else limit
    found = queryset.order_by()[: limit + 1].count()
    return min(found, limit), found > limit


# The window a newest-first keyword page is first looked for in (see ``newest_first_rows``).
RECENT_WINDOW = timedelta(days=7)


def newest_first_rows(queryset, offset: int, limit: int) -> list:
    """``queryset[offset:offset + limit]``, for a keyword search shown newest first.

    The planner cannot estimate a phrase: it multiplies its two-character windows' frequencies as if
    they were independent, so 路灯不亮 (in 1 ticket of 24) looks rare, and it fetches all 416,000 matches
    through the word index to sort them (over a minute at 10,000,000 tickets), when walking the newest
    tickets finds a page in a few hundred rows. So the rows are first looked for among the tickets
    registered in the last ``RECENT_WINDOW``, walking the registration index (bitmap scans off for that
    one statement: the walk's cost is bounded by the window); if the window holds enough of them they
    are exactly the first rows of the whole ordering. Otherwise the word is rare and the planner's own
    plan (the word index) answers for all time."""
    order = list(queryset.query.order_by)
    if (connections[queryset.db].vendor != "postgresql" or not order or order[0] != "-registered_at"
            or queryset.query.low_mark or queryset.query.high_mark is not None):
        return list(queryset[offset:offset + limit])
    need = offset + limit
    recent = queryset.filter(registered_at__gte=timezone.now() - RECENT_WINDOW)
    with transaction.atomic(using=queryset.db), connections[queryset.db].cursor() as cursor:
        # For this one statement only: a SET LOCAL lasts to the end of the transaction, which may be an
        # enclosing one, so the setting it had is put back (on an error, the rollback of this block does).
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        before = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        rows = list(recent[:need])
        cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])
    if len(rows) == need:
        return rows[offset:]
    return list(queryset[offset:offset + limit])


class LimitedCountPaginator(Paginator):
    """A ``Paginator`` whose count stops at ``HOTLINE_LIST_COUNT_LIMIT``; ``limited`` says that
    there are more rows than counted (and than can be paged through). With ``counted=False`` nothing
    is counted: ``page(n)`` fetches the page and one row more; ``count`` is then what is known — the
    rows before and on this page, plus one if another row follows (``limited``)."""

    limited = False

    def __init__(self, object_list, per_page, *args, counted: bool = True, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.counted = counted

    @cached_property
    def count(self) -> int:
        if not hasattr(self.object_list, "order_by"):  # a list: its length is known
            return len(self.object_list)
        count, self.limited = limited_count(self.object_list)
        return count

    def page(self, number):
        if self.counted:
            return super().page(number)
        try:
            number = max(1, int(number))
        except (TypeError, ValueError):
            raise PageNotAnInteger("页码必须是整数。") from None
        last_offered = max(1, count_limit() // self.per_page)
        number = min(number, last_offered)
        bottom = (number - 1) * self.per_page
        rows = newest_first_rows(self.object_list, bottom, self.per_page + 1)
        if not rows and number > 1:
            raise EmptyPage("该页没有结果。")
        beyond = len(rows) > self.per_page  # at least one row after this page
        more = beyond and number < last_offered  # ... and it may be paged to
        rows = rows[:self.per_page]
        # What is known: the rows up to this page, and one more when another row follows.
        self.__dict__["count"] = bottom + len(rows) + (1 if beyond else 0)
        self.__dict__["num_pages"] = number + (1 if more else 0)
        self.limited = beyond
        self.max_rows = last_offered * self.per_page  # the rows that may be paged through
        return self._get_page(rows, number, self)

    def get_page(self, number):
        if self.counted:
            return super().get_page(number)
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:  # past the end: the first page (the last one is not known without counting)
            return self.page(1)
