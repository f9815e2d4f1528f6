"""The centre's upload page, the job page it polls, and the same operations in the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ..exceptions import ApplicationError, NotFound
from ..models import ImportJob, ImportKind, ImportStatus, Role
from .jobs import import_job_create, import_job_state, import_kinds_for
from .services import IMPORTERS


def _job_for(user, job_id) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or (job.created_by_id != user.pk and user.role != Role.ADMIN):
        raise NotFound()
    return job


@login_required
def import_upload(request):
    kinds = import_kinds_for(request.user)
    if not kinds:
        raise DjangoPermissionDenied
    if request.method == "POST":
        try:
            job = import_job_create(kind=request.POST.get("kind", ""), upload=request.FILES.get("file"),
                                    actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("imports:job", job_id=job.pk)
    layouts = [(label, "、".join(h + ("*" if required else "") for h, required in IMPORTERS[kind].columns.items()))
               for kind, label in kinds]
    jobs = ImportJob.objects.filter(created_by=request.user)[:20]
    return render(request, "tickets/imports/upload.html", {"kinds": kinds, "layouts": layouts, "jobs": jobs})


@login_required
def import_job(request, job_id: int):
    try:
        job = _job_for(request.user, job_id)
    except NotFound:
        job = get_object_or_404(ImportJob, pk=0)
    return render(request, "tickets/imports/job.html", {"job": job, "state": import_job_state(job)})


@login_required
def import_job_status(request, job_id: int):
    try:
        job = _job_for(request.user, job_id)
    except NotFound:
        return JsonResponse({"code": "not_found", "detail": "记录不存在或无权查看。"}, status=404)
    return JsonResponse(import_job_state(job))


class ImportJobOutputSerializer(serializers.Serializer):
    """``import_job_state``: the job and, while it runs, its live progress."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    status = serializers.ChoiceField(choices=ImportStatus.choices)
    status_label = serializers.CharField()
    file = serializers.CharField()
    processed = serializers.IntegerField()
    total = serializers.IntegerField()
    phase = serializers.CharField(allow_blank=True)
    errors = serializers.ListField(child=serializers.JSONField(), help_text="前 HOTLINE_IMPORT_MAX_STORED_ERRORS 处错误")
    error_count = serializers.IntegerField(help_text="错误总数")
    error_code = serializers.CharField(allow_blank=True, help_text="失败时的错误代码，如 import_too_many_rows")
    summary = serializers.DictField()


class ImportCreateApi(APIView):
    """POST multipart ``kind`` + ``file`` → 202 with the job; poll ``GET /api/imports/<id>/``."""

    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ImportKind.choices)
        file = serializers.FileField()

    @extend_schema(operation_id="imports_create", summary="上传导入文件（异步导入，返回任务）",
                   request={"multipart/form-data": InputSerializer}, responses={202: ImportJobOutputSerializer})
    def post(self, request):
        job = import_job_create(kind=request.data.get("kind", ""), upload=request.FILES.get("file"),
                                actor=request.user)
        job.refresh_from_db()
        return Response(import_job_state(job), status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    @extend_schema(operation_id="imports_retrieve", summary="导入任务进度与结果",
                   responses=ImportJobOutputSerializer)
    def get(self, request, job_id: int):
        return Response(import_job_state(_job_for(request.user, job_id)))
