from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from tickets.pagination import LimitedCountPaginator


class Pagination(PageNumberPagination):
    """Page-number pagination whose ``count`` stops at ``HOTLINE_LIST_COUNT_LIMIT`` (tickets/pagination.py);
    ``count_limited`` is true when more rows match than were counted (and can be paged through)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = LimitedCountPaginator

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.paginator.count,
            "count_limited": self.page.paginator.limited,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"] = {
            "count": result["properties"]["count"],
            "count_limited": {"type": "boolean", "example": False,
                              "description": "更多工单匹配：count 只数到 HOTLINE_LIST_COUNT_LIMIT。"},
            **{k: v for k, v in result["properties"].items() if k != "count"},
        }
        result["required"] = [*result.get("required", []), "count_limited"]
        return result
