from functools import partial

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from tickets.pagination import LimitedCountPaginator
from tickets.search import search_is_counted


class Pagination(PageNumberPagination):
    """Page-number pagination whose ``count`` stops at ``HOTLINE_LIST_COUNT_LIMIT`` (tickets/pagination.py):
    ``count_limited`` is true when more rows match than were counted (and can be paged through)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = LimitedCountPaginator

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response({
            "count": paginator.count if paginator.counted else None,
            "count_limited": paginator.limited if paginator.counted else False,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        count = {**result["properties"]["count"], "nullable": True,
                 "description": "匹配的工单数，最多数到 HOTLINE_LIST_COUNT_LIMIT；按关键词查找（q 为词语）时不统计，为 null。"}
        result["properties"] = {
            "count": count,
            "count_limited": {"type": "boolean", "example": False,
                              "description": "更多工单匹配：count 只数到 HOTLINE_LIST_COUNT_LIMIT。"},
            **{k: v for k, v in result["properties"].items() if k != "count"},
        }
        result["required"] = [*result.get("required", []), "count_limited"]
        return result


class TicketPagination(Pagination):
    """The ticket list's: a keyword search (``?q=`` words, ``tickets.search.search_is_counted``) is not
    counted — ``count`` is null and ``next`` says whether more follow."""

    def paginate_queryset(self, queryset, request, view=None):
        counted = search_is_counted(request.query_params.get("q"))
        self.django_paginator_class = partial(LimitedCountPaginator, counted=counted)
        return super().paginate_queryset(queryset, request, view)
