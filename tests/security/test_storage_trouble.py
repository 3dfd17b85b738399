"""Issue 16 item 9: a full disk or read-only storage is a 503 that saved nothing (pages and API), the server
goes on serving reads and recovers by itself once the storage does; a folder it cannot write or a bad setting
at start is one clear line, never a traceback."""

from __future__ import annotations

import dataclasses
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.db.models import Attachment, Case
from bdd_workflow.system import System
from holes_support import bearer, make_app, signed_in, text

START = {"process": "consultation", "data": {"applicant_name": "王芳", "applicant_phone": "13812345678",
                                             "applicant_type": "personal", "channel": "phone",
                                             "question": "社保卡补办需要什么材料？" * 150}}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200ff9a5d6d0a0000000049454e44ae426082")


def count(system, model) -> int:
    with system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


# The SQLite file's own limits; PostgreSQL's storage is its server's, which answers the same way (53100, 25006).
SQLITE_ONLY = pytest.mark.parametrize("system", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_a_full_database_is_a_503_that_saved_nothing_and_the_server_recovers(system):
    """SQLite's max_page_count makes the file as full as a full disk would (SQLITE_FULL)."""
    app = make_app(system)
    client = app.test_client()
    headers = bearer(system, "zhaolina")
    before = count(system, Case)

    def full(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    system.db.engine.dispose()
    event.listen(system.db.engine, "connect", full)
    for _ in range(20):  # until the free pages inside the file are used up too
        refused = client.post("/api/v1/cases", headers=headers, json=START)
        if refused.status_code != 201:
            break
    assert refused.status_code == 503, refused.get_json()
    assert refused.get_json()["error"] == "storage_unavailable"
    assert "未保存任何内容" in refused.get_json()["message"]
    assert refused.headers["Retry-After"] == "300"
    filled = count(system, Case)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200  # reads go on

    page = signed_in(app, system, "zhaolina").get("/intake")
    assert page.status_code == 200

    event.remove(system.db.engine, "connect", full)
    system.db.engine.dispose()  # space freed: the next request writes again, no restart
    assert count(system, Case) == filled >= before
    assert client.post("/api/v1/cases", headers=headers, json=START).status_code == 201


@SQLITE_ONLY
def test_a_read_only_database_is_a_503_and_reads_go_on(system, tmp_path):
    path = tmp_path / "bdd.sqlite3"
    read_only = System(dataclasses.replace(system.settings, database_url=f"sqlite:///file:{path}?mode=ro&uri=true"))
    try:
        client = make_app(read_only).test_client()
        headers = bearer(read_only, "zhaolina")
        refused = client.post("/api/v1/cases", headers=headers, json=START)
        assert refused.status_code == 503 and refused.get_json()["error"] == "storage_unavailable"
        assert client.get("/api/v1/cases", headers=headers).status_code == 200
        # A browser signed in while the storage was writable keeps reading its inbox.
        cookie = signed_in(make_app(system), system, "zhaolina").get_cookie("session")
        browser = make_app(read_only).test_client()
        browser.set_cookie("session", cookie.value)
        inbox = browser.get("/")
        assert inbox.status_code == 200, text(inbox)[:300]
        assert "待办" in text(inbox)
    finally:
        read_only.db.dispose()


def test_an_upload_onto_a_full_disk_is_a_503_and_leaves_no_half_file(system, desk, monkeypatch):
    """The kernel's ENOSPC on writing the file (simulated at the write: a real full disk cannot be made
    portably in a test): nothing is kept, not the row and not a part of the file."""
    case = desk.start("consultation", "zhaolina", question="社保卡补办")
    client = make_app(system).test_client()
    headers = bearer(system, "zhaolina")
    uploads = system.settings.instance_dir / "uploads"
    real_write = Path.write_bytes

    def disk_full(self, data):
        real_write(self, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    refused = client.post(f"/api/v1/cases/{case['id']}/attachments", headers=headers,
                          data={"kind": "material", "file": (__import__("io").BytesIO(PNG), "材料.png", "image/png")})
    assert refused.status_code == 503, refused.get_json()
    assert refused.get_json()["error"] == "storage_unavailable"
    assert count(system, Attachment) == 0
    assert not [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else True
    monkeypatch.undo()
    kept = client.post(f"/api/v1/cases/{case['id']}/attachments", headers=headers,
                       data={"kind": "material", "file": (__import__("io").BytesIO(PNG), "材料.png", "image/png")})
    assert kept.status_code == 201


def bdd(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    environment.pop("BDD_SECRET_KEY", None)
    return subprocess.run([sys.executable, "-m", "bdd_workflow.cli", *args], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_an_instance_folder_that_cannot_be_written_is_one_clear_line_at_start(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = bdd("show-config", BDD_INSTANCE_DIR=str(blocked / "instance"))
    assert result.returncode == 1
    assert "实例目录" in result.stderr and "BDD_INSTANCE_DIR" in result.stderr
    assert "Traceback" not in result.stderr

    bad_url = bdd("show-config", BDD_INSTANCE_DIR=str(tmp_path / "ok"), BDD_PUBLIC_URL="ftp://example.gov.cn")
    assert bad_url.returncode == 1
    assert "BDD_PUBLIC_URL" in bad_url.stderr and "Traceback" not in bad_url.stderr
