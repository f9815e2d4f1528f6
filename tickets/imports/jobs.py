"""Import jobs of the upload page: created by the page or the API, run by a Celery task, polled."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from .. import permissions
from ..exceptions import InvalidInput, PermissionDenied
from ..models import ImportJob, ImportKind, ImportStatus, User
from .errors import ImportFailed
from .reader import Limits, file_too_large, table_check
from .services import import_file

logger = logging.getLogger(__name__)

IMPORT_ROLES = permissions.IMPORT_ROLES


def _progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:progress"


def import_kinds_for(user) -> list[tuple[str, str]]:
    return [(k.value, k.label) for k in ImportKind if permissions.has_role(user, IMPORT_ROLES[k])]


@transaction.atomic
def import_job_create(*, kind: str, upload, actor: User) -> ImportJob:
    """Store the uploaded file and queue its import (after commit)."""
    if kind not in ImportKind.values:
        raise InvalidInput("未知的导入类型。", fields={"kind": ["请选择导入类型。"]})
    if not permissions.has_role(actor, IMPORT_ROLES[ImportKind(kind)]):
        raise PermissionDenied("您的角色无权导入该类数据。")
    if upload is None:
        raise InvalidInput("请选择要导入的文件。", fields={"file": ["请选择文件。"]})
    if upload.size is None or upload.size > Limits.current().file_bytes:
        raise file_too_large(upload.size or 0)
    data = upload.read()
    table_check(data)  # the caps (rows, cell and file bytes), before anything is stored
    name = (upload.name or "upload")[-200:]
    job = ImportJob(kind=kind, original_name=name, created_by=actor)
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    from .tasks import import_job_run_task

    transaction.on_commit(lambda: _enqueue(import_job_run_task, job.pk))
    return job


def _enqueue(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # broker down: the job stays pending and the page says so
        logger.exception("could not enqueue %s", task.name)


def import_job_run(*, job_id: int) -> ImportJob:
    """Run the job's import (not inside a transaction: the importer opens its own, so progress
    written while validating is visible to the page at once)."""
    updated = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=timezone.now())
    job = ImportJob.objects.get(pk=job_id)
    if not updated:
        return job

    def progress(done: int, total: int, phase: str = "") -> None:
        cache.set(_progress_key(job_id), {"processed": done, "total": total, "phase": phase}, 3600)
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=job_id).update(processed=done, total=total)

    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        summary = import_file(kind=job.kind, data=data, name=job.original_name, actor=job.created_by,
                              progress=progress)
    except ImportFailed as exc:
        job.status, job.errors = ImportStatus.FAILED, [e.as_dict() for e in exc.errors]
        job.error_count, job.error_code = exc.count, exc.code
    except Exception as exc:  # an unexpected error is shown, not swallowed
        logger.exception("import job %s crashed", job_id)
        job.status, job.errors = ImportStatus.FAILED, [{"row": 0, "column": "", "reason": f"系统错误：{exc}"}]
        job.error_count, job.error_code = 1, "import_crashed"
    else:
        job.status, job.summary = ImportStatus.DONE, summary
        job.processed = job.total = summary.get("rows", 0)
    finally:
        _import_file_delete(job)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "error_count", "error_code", "summary", "processed", "total",
                            "finished_at", "file"])
    cache.delete(_progress_key(job_id))
    return job


def _import_file_delete(job: ImportJob) -> None:
    """The uploaded spreadsheet holds callers' names and numbers in clear: it is deleted as soon as
    its job has finished, whether the import succeeded or failed (docs/operations.md, retention)."""
    if not job.file:
        return
    try:
        job.file.delete(save=False)
    except OSError:  # already gone, or the storage refused: the job still finishes
        logger.warning("import job %s: could not delete its file", job.pk)
    job.file = ""


def import_job_state(job: ImportJob) -> dict:
    state = {"id": job.pk, "kind": job.kind, "status": job.status, "status_label": job.get_status_display(),
             "file": job.original_name, "processed": job.processed, "total": job.total, "phase": "",
             "errors": job.errors, "error_count": job.error_count or len(job.errors), "error_code": job.error_code,
             "summary": job.summary}
    if job.status == ImportStatus.RUNNING:
        live = cache.get(_progress_key(job.pk))
        if live:
            state.update(live)
    return state
