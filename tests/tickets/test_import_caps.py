"""Import caps (issue 13, item 6): rows per import, bytes per cell and per file, stored row errors;
and import files deleted once their job has finished (item 5)."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from rest_framework.test import APIClient

from tickets.imports import ImportFailed, import_file
from tickets.imports.reader import read_table
from tickets.models import ImportJob, ImportStatus, Ticket

from .import_helpers import TICKET_HEADERS, csv_bytes, ticket_row, xlsx_bytes

# The jobs run in-process here, broker or not (what they store is the subject, not the queue).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_in_process")]
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def junk_xlsx(rows: int) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(TICKET_HEADERS)
    for _ in range(rows):
        sheet.append(["x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def huge_cell_xlsx(cell_bytes: int, *, shared: bool = False) -> bytes:
    """A workbook whose cell A2 holds ``cell_bytes`` of text, written in chunks (the file stays ~0.1%
    of that: deflate of one repeated letter): an inline string in the sheet, as openpyxl writes it, or
    (``shared``) a shared string, as Excel writes it."""
    placeholder = "PLACEHOLDER-CELL"
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(["诉求内容"], [[placeholder]])))
    sheet = source.read("xl/worksheets/sheet1.xml").decode()
    if shared:
        inline = f'<is><t>{placeholder}</t></is>'
        assert inline in sheet and 't="inlineStr"' in sheet
        sheet = sheet.replace(f't="inlineStr"><is><t>{placeholder}</t></is>', 't="s"><v>0</v>')
        strings = f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">' \
                  f'<si><t>{placeholder}</t></si></sst>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        parts = {m.filename: source.read(m.filename) for m in source.infolist()}
        parts["xl/worksheets/sheet1.xml"] = sheet.encode()
        if shared:
            parts["xl/sharedStrings.xml"] = strings.encode()
            parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
            parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
                b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
                b'officeDocument/2006/relationships/sharedStrings"/></Relationships>'))
        for name, data in parts.items():
            if placeholder.encode() not in data:
                archive.writestr(name, data)
                continue
            before, after = data.split(placeholder.encode())
            with archive.open(name, "w", force_zip64=True) as part:
                part.write(before)
                chunk = b"A" * MB
                for _ in range(cell_bytes // MB):
                    part.write(chunk)
                part.write(after)
    return out.getvalue()


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(client, data: bytes, name="tickets.xlsx", kind="tickets"):
    return client.post("/api/imports/", {"kind": kind, "file": SimpleUploadedFile(name, data)}, format="multipart")


def run_upload(client, data, django_capture_on_commit_callbacks, name="tickets.xlsx"):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, data, name)
    assert response.status_code == 202, response.content[:500]
    return ImportJob.objects.get(pk=response.json()["id"])


# --- stored row errors ----------------------------------------------------------------------------


def test_twenty_thousand_junk_rows_store_the_first_200_errors_and_a_count(
        dispatcher, media_in_tmp, django_capture_on_commit_callbacks):
    # given: a small XLSX of 20,000 rows with nothing but "x" (six required columns empty on each)
    data = junk_xlsx(20_000)
    assert len(data) < 200 * 1024
    client = api(dispatcher)
    # when
    job = run_upload(client, data, django_capture_on_commit_callbacks)
    # then
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    # six empty required columns a row, and the 工单编号 "x" repeated 19,999 times
    assert job.error_count == 6 * 20_000 + 19_999
    assert len(job.errors) == 200
    assert job.errors[0] == {"row": 2, "column": "登记时间", "reason": "必填，不能为空。"}
    state = client.get(f"/api/imports/{job.pk}/").json()
    assert state["error_count"] == 139_999 and len(state["errors"]) == 200
    assert state["error_code"] == "import_invalid"
    assert len(json.dumps(state, ensure_ascii=False).encode()) < 40_000
    page_state = client.get(f"/imports/{job.pk}/status.json")
    assert page_state.status_code in (200, 302)
    assert Ticket.objects.count() == 0


def test_the_stored_errors_cap_is_a_setting_and_the_message_gives_the_total(directory, settings):
    # given
    settings.HOTLINE_IMPORT_MAX_STORED_ERRORS = 3
    rows = [ticket_row(**{"工单编号": f"RZ20240401{i:05d}", "诉求类型": "?"}) for i in range(1, 11)]
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="tickets", data=csv_bytes(TICKET_HEADERS, rows))
    # then
    assert caught.value.count == 10 and [e.row for e in caught.value.errors] == [2, 3, 4]
    assert caught.value.message == "导入失败：共10处错误（只列出前3处），未写入任何数据。"


def test_the_job_page_says_how_many_errors_there_were(client, dispatcher, media_in_tmp,
                                                      django_capture_on_commit_callbacks):
    # given
    job = run_upload(api(dispatcher), junk_xlsx(100), django_capture_on_commit_callbacks)
    client.force_login(dispatcher)
    # when
    html = client.get(f"/imports/{job.pk}/").content.decode()
    # then
    assert "共 699 处错误，以下只列出前 200 处" in html


# --- rows, cells, file size: refused at upload with a stable code, nothing stored -----------------


@pytest.mark.parametrize("make", [junk_xlsx, lambda n: csv_bytes(TICKET_HEADERS, [["x"]] * n)], ids=["xlsx", "csv"])
def test_more_rows_than_the_cap_are_refused_at_upload(dispatcher, settings, media_in_tmp, make):
    # given
    settings.HOTLINE_IMPORT_MAX_ROWS = 1000
    # when
    response = upload(api(dispatcher), make(1001), name="t.xlsx")
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_too_many_rows"
    assert body["detail"] == "导入失败：数据行数超过上限（1000行），请分成几个文件导入。未写入任何数据。"
    assert not ImportJob.objects.exists() and stored_files(media_in_tmp) == []
    # exactly the cap is fine
    assert upload(api(dispatcher), make(1000), name="t.xlsx").status_code == 202


def test_a_file_larger_than_the_cap_is_refused_at_upload_on_the_page_and_the_api(
        client, dispatcher, settings, media_in_tmp):
    # given
    settings.HOTLINE_IMPORT_MAX_FILE_BYTES = 2000
    data = csv_bytes(TICKET_HEADERS, [ticket_row(**{"工单编号": f"RZ20240401{i:05d}"}) for i in range(1, 20)])
    assert len(data) > 2000
    # when
    response = upload(api(dispatcher), data, name="t.csv")
    client.force_login(dispatcher)
    page = client.post("/imports/", {"kind": "tickets", "file": SimpleUploadedFile("t.csv", data)}, follow=True)
    # then
    assert response.status_code == 400 and response.json()["code"] == "import_file_too_large"
    assert response.json()["detail"].startswith("导入失败：文件过大（")
    assert "不能超过2KB。" in response.json()["detail"]
    assert "文件过大" in page.content.decode() and "不能超过2KB" in page.content.decode()
    assert not ImportJob.objects.exists() and stored_files(media_in_tmp) == []


def test_a_cell_larger_than_the_cap_is_refused_with_its_place(dispatcher, settings, media_in_tmp):
    # given
    settings.HOTLINE_IMPORT_MAX_CELL_BYTES = 1000
    rows = [ticket_row(), ticket_row(**{"工单编号": "RZ2024040100002", "诉求内容": "路" * 400})]  # 1,200 bytes
    # when
    for data, name in ((csv_bytes(TICKET_HEADERS, rows), "t.csv"), (xlsx_bytes(TICKET_HEADERS, rows), "t.xlsx")):
        response = upload(api(dispatcher), data, name=name)
        # then
        assert response.status_code == 400, name
        assert response.json()["code"] == "import_cell_too_large"
        assert "第3行第I列的单元格内容过大" in response.json()["detail"]
    assert not ImportJob.objects.exists() and stored_files(media_in_tmp) == []


def test_a_row_wider_than_the_column_cap_is_refused(directory):
    # when
    with pytest.raises(ImportFailed) as caught:
        read_table(csv_bytes(TICKET_HEADERS, [[""] * 300]))
    # then
    assert caught.value.code == "import_too_many_columns"


def _peak_while(call) -> tuple[int, float, BaseException | None]:
    tracemalloc.start()
    started = time.monotonic()
    error = None
    try:
        call()
    except ImportFailed as exc:
        error = exc
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, elapsed, error


@pytest.mark.parametrize("shared", [False, True], ids=["inline-string", "shared-string"])
def test_a_hundred_megabyte_cell_in_a_small_xlsx_is_refused_before_it_is_read(directory, settings, shared):
    # given: one 100 MB cell, compressed to ~100 KB; the file cap raised so that the cell cap decides
    data = huge_cell_xlsx(100 * MB, shared=shared)
    assert len(data) < 300 * 1024
    settings.HOTLINE_IMPORT_MAX_FILE_BYTES = 200 * MB
    # when
    peak, _elapsed, error = _peak_while(lambda: read_table(data))
    # then: refused, and never held in memory (openpyxl would load the whole string at once)
    assert error is not None and error.code == "import_cell_too_large"
    place = "第2行第A列" if not shared else "文件中"
    assert error.message == f"导入失败：{place}的单元格内容过大（超过1MB）。未写入任何数据。"
    assert peak < 8 * MB, peak


def test_with_the_default_caps_the_same_file_is_refused_for_its_unpacked_size(directory):
    # given
    data = huge_cell_xlsx(100 * MB)
    # when
    peak, _elapsed, error = _peak_while(lambda: read_table(data))
    # then
    assert error is not None and error.code == "import_file_too_large"
    assert "文件解压后过大" in error.message
    assert peak < 2 * MB, peak


def test_a_declared_dimension_does_not_inflate_the_rows(directory):
    # given: a sheet claiming A1:XFD1048576 but holding two rows
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(TICKET_HEADERS, [ticket_row()])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:W2"/>', b'<dimension ref="A1:XFD1048576"/>')
                assert b"XFD1048576" in data
            archive.writestr(member, data)
    # when
    table = read_table(out.getvalue())
    # then
    assert len(table) == 1 and len(table.rows[0][1]) == len(TICKET_HEADERS)


# --- import files deleted once their job has finished (item 5) -------------------------------------


def test_the_uploaded_file_is_deleted_once_the_job_succeeds_or_fails(
        dispatcher, media_in_tmp, django_capture_on_commit_callbacks):
    # given
    client = api(dispatcher)
    good = csv_bytes(TICKET_HEADERS, [ticket_row()])
    bad = csv_bytes(TICKET_HEADERS, [ticket_row(**{"诉求类型": "?"})])
    # when
    done = run_upload(client, good, django_capture_on_commit_callbacks, name="good.csv")
    failed = run_upload(client, bad, django_capture_on_commit_callbacks, name="bad.csv")
    # then
    done.refresh_from_db()
    failed.refresh_from_db()
    assert (done.status, failed.status) == (ImportStatus.DONE, ImportStatus.FAILED)
    assert not done.file and not failed.file
    assert stored_files(media_in_tmp) == []
    assert Ticket.objects.count() == 1


def test_a_pending_job_keeps_its_file_under_a_random_name(dispatcher, media_in_tmp,
                                                          django_capture_on_commit_callbacks):
    # given / when: the job is queued but not run yet
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(api(dispatcher), csv_bytes(TICKET_HEADERS, [ticket_row()]), name="来电 13812345678.csv")
    # then
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == ImportStatus.PENDING
    assert job.original_name == "来电 13812345678.csv"
    import re

    assert re.fullmatch(r"imports/[0-9a-f]{32}\.csv", job.file.name), job.file.name
    assert [p.name for p in stored_files(media_in_tmp)] == [job.file.name.split("/")[1]]


def test_the_upgrade_deletes_the_files_of_jobs_that_finished_before_it(dispatcher, media_in_tmp):
    # given: jobs as the previous release left them (file kept after the job ended)
    import importlib

    from django.apps import apps
    from django.core.files.base import ContentFile

    migration = importlib.import_module("tickets.migrations.0015_random_file_names_import_error_count")
    jobs = {}
    for status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.PENDING):
        job = ImportJob(kind="calls", original_name="calls.csv", created_by=dispatcher, status=status)
        job.file.save("calls.csv", ContentFile(b"\xe4\xb8\xbb\xe5\x8f\xab\xe5\x8f\xb7\xe7\xa0\x81\n13812345678\n"))
        jobs[status] = job
    # when
    migration.delete_finished_import_files(apps, None)
    # then
    for job in jobs.values():
        job.refresh_from_db()
    assert not jobs[ImportStatus.DONE].file and not jobs[ImportStatus.FAILED].file
    assert [p.name for p in stored_files(media_in_tmp)] == [jobs[ImportStatus.PENDING].file.name.split("/")[1]]
