"""Files attached to tickets: checked for type (extension AND content) and size before storing."""

from __future__ import annotations

import zipfile
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from .. import permissions
from ..exceptions import InvalidInput
from ..models import Attachment, EventType, Role, Ticket, TicketEvent, User
from .common import event_record

# extension -> (content type, check of the first bytes)
_ZIP = b"PK\x03\x04"
ALLOWED_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ALLOWED_LABEL = "jpg、png、pdf、docx、xlsx"


def _max_bytes() -> int:
    return int(getattr(settings, "HOTLINE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


def _content_matches(ext: str, file) -> bool:
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext in ("docx", "xlsx"):
        if not head.startswith(_ZIP):
            return False
        marker = "word/" if ext == "docx" else "xl/"
        try:
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        finally:
            file.seek(0)
        return "[Content_Types].xml" in names and any(n.startswith(marker) for n in names)
    return False


def attachment_check(*, file: UploadedFile, field: str = "attachments") -> str:
    """Raise ``InvalidInput`` unless ``file`` is an allowed type (by extension and by its content)
    and not larger than ``HOTLINE_ATTACHMENT_MAX_BYTES``; return the content type."""
    name = PurePath(file.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_TYPES:
        raise InvalidInput(f"附件“{name}”的类型不允许，只能上传{ALLOWED_LABEL}文件。", code="attachment_type",
                           fields={field: [f"“{name}”：只能上传{ALLOWED_LABEL}文件。"]})
    limit = _max_bytes()
    if file.size is None or file.size > limit:
        mb = limit / (1024 * 1024)
        raise InvalidInput(f"附件“{name}”超过{mb:g}MB。", code="attachment_too_large",
                           fields={field: [f"“{name}”超过{mb:g}MB，请压缩后再上传。"]})
    if file.size == 0 or not _content_matches(ext, file):
        raise InvalidInput(f"附件“{name}”的内容与扩展名不符。", code="attachment_content",
                           fields={field: [f"“{name}”的内容不是有效的{ext}文件。"]})
    return ALLOWED_TYPES[ext]


@transaction.atomic
def attachment_add(*, ticket: Ticket, actor: User, file: UploadedFile, internal: bool = False,
                   event: TicketEvent | None = None) -> Attachment:
    """Store ``file`` on ``ticket``. Unit handlers attach only to their own unit's tickets."""
    if actor.role == Role.UNIT_HANDLER:
        permissions.require_unit_of(actor, ticket)
    elif actor.role not in permissions.REGISTER_ROLES:
        raise permissions.PermissionDenied()
    content_type = attachment_check(file=file)
    name = PurePath(file.name).name[:200]
    attachment = Attachment(ticket=ticket, event=event, original_name=name, content_type=content_type,
                            size=file.size, internal=internal, uploaded_by=actor)
    attachment.file.save(name, file, save=False)
    attachment.save()
    if event is None:
        event_record(ticket=ticket, type=EventType.UPDATED, actor=actor, note=f"添加附件：{name}",
                     data={"attachment_id": attachment.pk, "size": attachment.size})
    return attachment
