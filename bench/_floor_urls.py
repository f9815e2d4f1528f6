"""The floor that registration is measured against (``make bench BENCH_ARGS=api_create``): a bare
DRF endpoint that validates a serializer, inserts one ticket row and one audit event in one
transaction, and answers 201 — what any Django + DRF registration costs at the least, on the same
gunicorn, database and token authentication. Only in the benchmark's settings; never in the product."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.urls import urlpatterns as product_urlpatterns
from tickets.models import EventType, Status, Ticket, TicketEvent


class FloorRegisterApi(APIView):
    class InputSerializer(serializers.Serializer):
        appeal_type = serializers.IntegerField()
        category = serializers.IntegerField()
        channel = serializers.IntegerField()
        township = serializers.IntegerField()
        title = serializers.CharField(max_length=100, allow_blank=True)
        content = serializers.CharField(max_length=5000)
        caller_name = serializers.CharField(max_length=50, allow_blank=True)
        caller_phone = serializers.CharField(max_length=30, allow_blank=True)
        address = serializers.CharField(max_length=200, allow_blank=True)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        now = timezone.now()
        with transaction.atomic():
            ticket = Ticket.objects.create(
                number=f"F{uuid.uuid4().hex[:30]}", appeal_type_id=v["appeal_type"], category_id=v["category"],
                channel_id=v["channel"], township_id=v["township"], title=v["title"], content=v["content"],
                caller_name=v["caller_name"], caller_phone=v["caller_phone"], address=v["address"],
                status=Status.PENDING_DISPATCH, registered_at=now, registered_by=request.user)
            TicketEvent.objects.create(ticket=ticket, type=EventType.REGISTERED, actor=request.user,
                                       to_status=Status.PENDING_DISPATCH, created_at=now)
        return Response({"id": ticket.pk, "number": ticket.number, "status": ticket.status},
                        status=status.HTTP_201_CREATED)


urlpatterns = [path("bench/floor/", FloorRegisterApi.as_view()), *product_urlpatterns]
