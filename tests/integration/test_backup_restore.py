"""`bdd backup` while cases are being written, `bdd restore` on a fresh instance (issue 16, backup and
restore): every case acknowledged before the backup began comes back, with its files, and works."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.db.models import Attachment, Case
from bdd_workflow.services import attachments
from bdd_workflow.system import System
from tests.conftest import SIGNATURE_PNG, make_settings


def bdd(*args: str, database_url: str, instance: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BDD_DATABASE_URL": database_url, "BDD_INSTANCE_DIR": str(instance)}
    env.pop("BDD_SECRET_KEY", None)
    return subprocess.run([sys.executable, "-m", "bdd_workflow.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def empty_target(system, tmp_path):
    """Where the backup is restored: a new instance folder and, on PostgreSQL, a new empty database."""
    instance = tmp_path / "restored"
    if system.db.engine.dialect.name == "sqlite":
        yield instance, f"sqlite:///{instance / 'bdd.sqlite3'}"
        return
    url = make_url(system.db.url)
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield instance, url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_taken_under_load_restores_every_acknowledged_case(system, desk, tmp_path, empty_target):
    """Cases (some with a file) are started without pause while `bdd backup` runs in another process.
    Restored on a fresh instance, every case acknowledged before the backup began is there, every file
    matches the checksum its row recorded, and a restored case can be worked on."""
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            n = 0
            while not stop.is_set():
                case = desk.start("consultation", "zhaolina", question=f"第 {n} 个问题")
                if n % 3 == 0:
                    attachments.add(system, desk.actor("zhaolina"), case["id"], "material", SIGNATURE_PNG, f"材料{n}.png",
                                    "image/png")
                acknowledged.append((time.monotonic(), case["number"]))
                n += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    while len(acknowledged) < 15 and writer.is_alive():
        time.sleep(0.05)
    backup_began = time.monotonic()
    archive = tmp_path / "backup.tar"
    taken = bdd("backup", str(archive), database_url=system.db.url, instance=tmp_path)
    time.sleep(0.3)  # the writer goes on after the backup, as a server would
    stop.set()
    writer.join()
    assert not failures, failures
    assert taken.returncode == 0, taken.stderr
    assert "备份完成" in taken.stdout

    before = {number for at, number in acknowledged if at < backup_began}
    after_backup = {number for at, number in acknowledged if at >= backup_began}
    assert len(before) >= 15

    instance, target_url = empty_target
    restored = bdd("restore", str(archive), database_url=target_url, instance=instance)
    assert restored.returncode == 0, restored.stderr
    assert "恢复完成" in restored.stdout

    back = System(make_settings(instance, target_url))
    try:
        with back.db.unit_of_work(write=False) as session:
            numbers = set(session.scalars(select(Case.number).where(Case.process_id == "consultation")))
            files = list(session.execute(select(Attachment.storage_path, Attachment.sha256)))
        assert before <= numbers, f"lost: {sorted(before - numbers)}"
        assert numbers <= before | after_backup | _numbers_before_the_test(system)
        assert files, "the cases' files came back"
        for relative, digest in files:
            stored = instance / "uploads" / relative
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
        # The restored installation works: the first acknowledged case's step can be done there.
        first = acknowledged[0][1]
        with back.db.unit_of_work(write=False) as session:
            case_id = session.scalar(select(Case.id).where(Case.number == first))
        from tests.conftest import Desk

        again = Desk(back)
        assert again.ready_names(case_id), "the restored case has its open step"
        again.do(case_id, "record_consultation", {"question": "社保卡补办需要什么材料？", "answerable": False})
        assert again.ready_names(case_id) == ["dispatch_work_order"]
    finally:
        back.db.dispose()
    assert (instance / "secret_key").read_text() == (tmp_path / "secret_key").read_text()


def _numbers_before_the_test(system) -> set[str]:
    with system.db.unit_of_work(write=False) as session:
        return set(session.scalars(select(Case.number).where(Case.started_by != "zhaolina")))


def test_restore_never_writes_over_data(system, tmp_path):
    """A restore into a database that has tables is refused with what to do, and changes nothing."""
    archive = tmp_path / "backup.tar"
    assert bdd("backup", str(archive), database_url=system.db.url, instance=tmp_path).returncode == 0
    with system.db.unit_of_work(write=False) as session:
        cases = session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))
    refused = bdd("restore", str(archive), database_url=system.db.url, instance=tmp_path)
    assert refused.returncode == 1
    assert "不是空的" in refused.stderr and "Traceback" not in refused.stderr
    with system.db.unit_of_work(write=False) as session:
        assert session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) == cases
    again = bdd("backup", str(archive), database_url=system.db.url, instance=tmp_path)
    assert again.returncode == 1 and "已存在" in again.stderr


@pytest.mark.parametrize("system", ["sqlite"], indirect=True)
def test_what_is_not_a_backup_is_a_clear_error(system, tmp_path):
    not_ours = tmp_path / "other.tar"
    with tarfile.open(not_ours, "w") as archive:
        archive.add(PROJECT_ROOT / "README.md", arcname="README.md")
    for path in (not_ours, PROJECT_ROOT / "README.md", tmp_path / "absent.tar"):
        result = bdd("restore", str(path), database_url=f"sqlite:///{tmp_path / 'new.sqlite3'}",
                     instance=tmp_path / "new")
        assert result.returncode == 1
        assert ("不是本系统" in result.stderr or "找不到" in result.stderr) and "Traceback" not in result.stderr
