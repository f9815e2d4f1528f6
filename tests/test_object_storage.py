"""Uploaded files in S3-compatible object storage (django-storages) instead of the local disk: a real
S3 server (moto's server mode, on a loopback port) holds attachments and import files, and they come
back through the product's permission-checked views. Local disk stays the embedded default."""

from __future__ import annotations

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bench.common import free_port
from tickets.imports.jobs import import_job_create, import_job_run
from tickets.models import ImportStatus
from tickets.services.attachments import attachment_add

from .tickets.import_helpers import csv_bytes

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BUCKET = "hotline-test"
KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_server, settings, tmp_path):
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=BUCKET)
    # The same settings base.py builds from HOTLINE_S3_* (tested below), pointed at the test server.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": s3_server, "access_key": KEYS["aws_access_key_id"],
                    "secret_key": KEYS["aws_secret_access_key"], "region_name": "us-east-1",
                    "addressing_style": "path", "signature_version": "s3v4", "default_acl": "private",
                    "file_overwrite": False},
    }}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys_in(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_an_attachment_is_stored_in_the_bucket_and_served_through_the_checked_view(
        bucket, client, unit_handler, other_unit_handler, ticket_in, tmp_path):
    # given a ticket in handling
    ticket = ticket_in("handling")

    # when the unit attaches a photo
    attachment = attachment_add(ticket=ticket, actor=unit_handler,
                                file=SimpleUploadedFile("现场.png", PNG, content_type="image/png"))

    # then the object is in the bucket, nothing on the local disk …
    [key] = keys_in(bucket)
    assert key == attachment.file.name
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PNG
    assert not (tmp_path / "media").exists()
    # … the unit gets it back through the permission-checked view …
    client.force_login(unit_handler)
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    # … and another unit does not.
    client.force_login(other_unit_handler)
    assert client.get(reverse("tickets:attachment", args=[ticket.pk, attachment.pk])).status_code == 404


def test_an_import_file_goes_through_the_bucket(bucket, admin_user):
    # given an uploaded units file
    upload = SimpleUploadedFile("units.csv", csv_bytes(["单位名称", "简称", "考核分组", "排序", "需派驻"],
                                                       [["对象存储测试局", "存储局", "市直单位", "99", "否"]]))

    # when the job is created (the web process) …
    job = import_job_create(kind="units", upload=upload, actor=admin_user)
    stored = keys_in(bucket)
    # … and run (a worker, possibly on another machine, reads the file from the bucket)
    job = import_job_run(job_id=job.pk)

    # then
    assert stored and stored[0].startswith("imports/")
    assert job.status == ImportStatus.DONE, job.__dict__


def test_settings_switch_to_object_storage_with_the_bucket_variable():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("from django.conf import settings; import json; "
            "print(json.dumps(settings.STORAGES['default']))")
    env = {**os.environ, "HOTLINE_S3_BUCKET": "hotline", "HOTLINE_S3_ENDPOINT_URL": "http://minio:9000",
           "HOTLINE_S3_ACCESS_KEY": "a", "HOTLINE_S3_SECRET_KEY": "b", "DJANGO_SETTINGS_MODULE": "hotline.settings.test"}
    without = {k: v for k, v in env.items() if not k.startswith("HOTLINE_S3_")}
    run = lambda e: subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"],  # noqa: E731
                                   cwd=root, env=e, capture_output=True, text=True, timeout=60)
    import json

    with_bucket, local = json.loads(run(env).stdout), json.loads(run(without).stdout)
    assert with_bucket["BACKEND"] == "storages.backends.s3.S3Storage"
    assert with_bucket["OPTIONS"]["bucket_name"] == "hotline"
    assert with_bucket["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    assert with_bucket["OPTIONS"]["default_acl"] == "private"
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
