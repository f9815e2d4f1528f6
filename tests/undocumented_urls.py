"""A URLconf with one undocumented API view (``tests/test_schema.py`` checks that it fails)."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class UndocumentedApi(APIView):
    def get(self, request):
        return Response({})


urlpatterns = [path("api/undocumented/", UndocumentedApi.as_view())]
