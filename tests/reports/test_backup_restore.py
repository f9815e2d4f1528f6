"""The backup procedure of docs/operations.md works: a ``pg_dump -Fc`` of a live database, restored
with ``pg_restore`` into an empty database, gives the same bulletin for a month — the published
JSON and the figures recomputed from the restored tickets, calls and scores."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

READ_BULLETIN = """
import json, django
django.setup()
from reports.models import Bulletin
from reports.selectors import bulletin_statistics, period_parse
published = Bulletin.objects.get(period="2024-04").as_json()
recomputed = bulletin_statistics(month=period_parse("2024-04"))
print(json.dumps({"published": published, "recomputed": recomputed}, ensure_ascii=False, default=str))
"""


def _url(settings_dict: dict, name: str) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgresql://{user}{password}@{host}:{port}/{name}"


def _bulletin_from(database_url: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "hotline.settings.test"}
    result = subprocess.run([sys.executable, "-c", READ_BULLETIN], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_restored_dump_gives_the_same_bulletin(demo_bulletin, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore use pg_dump/pg_restore: set DATABASE_URL=postgres://…")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed (Debian postgresql-client; .ci/run installs it)")
    # given: the published April 2024 demo, committed in the live database
    settings_dict = connection.settings_dict
    source = _url(settings_dict, settings_dict["NAME"])
    target_name = f"{settings_dict['NAME']}_restored"
    target = _url(settings_dict, target_name)
    admin = _url(settings_dict, "postgres")
    dump = tmp_path / "hotline.dump"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target_name}"')
        conn.execute(f'CREATE DATABASE "{target_name}"')
    try:
        # when: the documented backup, restored into an empty database
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), source], check=True, timeout=300)
        subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "-d", target, str(dump)], check=True,
                       timeout=300)
        before, after = _bulletin_from(source), _bulletin_from(target)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
    # then: the same bulletin, stored and recomputed, and it is the real month (not an empty one)
    assert after == before
    assert after["published"]["tickets"]["total"] == 4998
    assert after["recomputed"]["tickets"]["total"] == 4998
