"""Backup and restore of one installation: the database, the uploaded files and the instance's key.

A backup is one tar file a county can copy elsewhere:

    manifest.json        what is inside: when, which schema revision, which database kind, counts
    database.sqlite3     SQLite: a copy made with SQLite's online backup API (one consistent snapshot,
                         taken while the server keeps serving: WAL readers never block writers)
    database.pgdump      PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot by its own
                         repeatable-read transaction)
    uploads/...          every attachment file
    secret_key           the key generated under instance/ (absent when BDD_SECRET_KEY configures it)

The database is copied FIRST and the files after it. An attachment's file is written before its row is
committed (services.attachments), so every row in the snapshot finds its file in the copy; files of rows
committed later are copied too and dropped at restore, where every kept file is checked against the
SHA-256 its row recorded.

Restore brings a backup back on a fresh machine: into an empty database (never over data), then the
schema is migrated to this version of the code, as ``bdd init`` would.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url

from .db.migrate import current, head, known, upgrade
from .db.models import Attachment, Case
from .system import System

FORMAT = "bdd-backup/1"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
KEY_MEMBER = "secret_key"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why and what to do (Chinese)."""


@dataclass
class Report:
    """What a backup holds or a restore brought back."""

    path: Path
    manifest: dict[str, Any]
    dropped_files: int = 0
    notes: list[str] = field(default_factory=list)


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份这种数据库：{backend}（支持 SQLite 和 PostgreSQL）。")
    return backend


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump/pg_restore/psql take it (no '+driver')."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份或恢复：请用文件数据库（BDD_DATABASE_URL）。")
    return Path(database)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"找不到 {command[0]}：PostgreSQL 的备份和恢复需要它（Debian: apt-get install postgresql-client）。") from None
    if done.returncode != 0:
        raise BackupError(f"{what}失败：{done.stderr.strip()[-800:]}")


def take(system: System, target: Path) -> Report:
    """Write a backup of ``system`` to ``target`` (a new file; never overwrites one)."""
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} 已存在：备份不覆盖已有文件，请换一个文件名（例如带上日期）。")
    if not target.parent.is_dir():
        raise BackupError(f"目录 {target.parent} 不存在。")
    kind = _kind(system.db.url)
    revision = current(system.db)
    if revision is None:
        raise BackupError("数据库尚未初始化（bdd init），没有可备份的内容。")
    started = system.clock.now()
    with tempfile.TemporaryDirectory(prefix="bdd-backup-", dir=target.parent) as work:
        work_dir = Path(work)
        if kind == "sqlite":
            snapshot = work_dir / SQLITE_MEMBER
            source = sqlite3.connect(_sqlite_file(system.db.url), timeout=30)
            copy = sqlite3.connect(snapshot)
            try:
                source.backup(copy)  # all pages in one step: one read transaction, one snapshot
            finally:
                copy.close()
                source.close()
            counts = _counts(f"sqlite:///{snapshot}")
        else:
            snapshot = work_dir / PG_MEMBER
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(snapshot),
                  "--dbname", _libpq_url(system.db.url)], "pg_dump 备份数据库")
            counts = None  # counted from the live database below (pg_dump's snapshot cannot be queried)
        uploads = system.settings.instance_dir / "uploads"
        files = sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.is_dir() else []
        key_file = system.settings.instance_dir / KEY_MEMBER
        keep_key = key_file.is_file() and key_file.read_text().strip() == system.settings.secret_key
        manifest = {
            "format": FORMAT, "taken_at": started.isoformat(), "database": kind, "schema_revision": revision,
            "files": len(files), "secret_key_included": keep_key,
            **(counts if counts is not None else _counts(system.db.url)),
        }
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            _add_bytes(archive, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode(), started)
            archive.add(snapshot, arcname=snapshot.name)
            for path in files:
                archive.add(path, arcname=str(PurePosixPath("uploads", *path.relative_to(uploads).parts)))
            if keep_key:
                archive.add(key_file, arcname=KEY_MEMBER)
        partial.replace(target)  # a backup file exists only when it is whole
    return Report(target, manifest)


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {"cases": conn.scalar(select(func.count()).select_from(Case)) or 0,
                    "attachments": conn.scalar(select(func.count()).select_from(Attachment)) or 0}
    finally:
        engine.dispose()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, at: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(at.timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def read_manifest(source: Path) -> dict[str, Any]:
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}。")
    try:
        with tarfile.open(source, "r") as archive:
            member = archive.extractfile("manifest.json")
            manifest = json.loads(member.read()) if member else None
    except (tarfile.TarError, KeyError, ValueError, OSError):
        raise BackupError(f"{source} 不是本系统的备份文件（缺少或无法读取 manifest.json）。") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} 不是本系统认识的备份格式（应为 {FORMAT}）。")
    return manifest


def restore(system: System, source: Path) -> Report:
    """Bring the backup at ``source`` back into ``system``'s (empty) database and instance folder."""
    manifest = read_manifest(source)
    kind = _kind(system.db.url)
    if manifest["database"] != kind:
        raise BackupError(f"这份备份来自 {manifest['database']} 数据库，而当前配置的是 {kind}："
                          "请把 BDD_DATABASE_URL 指向同一种数据库（跨数据库迁移请用导出导入）。")
    if not known(str(manifest["schema_revision"])):
        raise BackupError(f"备份的数据库结构版本 {manifest['schema_revision']} 比本程序新：请先升级程序再恢复。")
    with system.db.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        raise BackupError(f"目标数据库 {system.db.engine.url.render_as_string(hide_password=True)} 不是空的"
                          f"（已有 {len(tables)} 张表）：恢复只写入空数据库，不覆盖现有数据。请新建一个空数据库，"
                          "或设置 BDD_DATABASE_URL / BDD_INSTANCE_DIR 指向新位置。")
    uploads = system.settings.instance_dir / "uploads"
    if uploads.is_dir() and any(p.is_file() for p in uploads.rglob("*")):
        raise BackupError(f"{uploads} 里已有文件：恢复不覆盖现有附件，请换一个空的实例目录（BDD_INSTANCE_DIR）。")
    report = Report(Path(source), manifest)
    with tempfile.TemporaryDirectory(prefix="bdd-restore-") as work:
        work_dir = Path(work)
        with tarfile.open(source, "r") as archive:
            archive.extractall(work_dir, filter="data")  # no absolute paths, links or '..' out of work_dir
        system.db.dispose()
        if kind == "sqlite":
            target = _sqlite_file(system.db.url)
            target.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)  # an empty database's leftovers only
            shutil.copyfile(work_dir / SQLITE_MEMBER, target)
        else:
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                  "--dbname", _libpq_url(system.db.url), str(work_dir / PG_MEMBER)], "pg_restore 恢复数据库")
        upgrade(system.db)  # a backup of an older version comes up to this one's schema
        with system.db.unit_of_work(write=False) as session:
            wanted = {row.storage_path: row.sha256 for row in session.execute(
                select(Attachment.storage_path, Attachment.sha256))}
        missing = []
        for relative, digest in wanted.items():
            extracted = work_dir / "uploads" / relative
            if not extracted.is_file() or hashlib.sha256(extracted.read_bytes()).hexdigest() != digest:
                missing.append(relative)
                continue
            destination = uploads / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(extracted, destination)
        extracted_all = [p for p in (work_dir / "uploads").rglob("*") if p.is_file()] if (work_dir / "uploads").is_dir() else []
        report.dropped_files = len(extracted_all) - (len(wanted) - len(missing))
        if missing:
            report.notes.append(f"有 {len(missing)} 个附件的文件不在备份中或内容不符（其记录保留，打开时提示文件已丢失）："
                                + "、".join(missing[:5]) + ("……" if len(missing) > 5 else ""))
        key = work_dir / KEY_MEMBER
        if key.is_file():
            key_file = system.settings.instance_dir / KEY_MEMBER
            key_file.write_text(key.read_text())
            key_file.chmod(0o600)
        else:
            report.notes.append("备份不含密钥（原系统用 BDD_SECRET_KEY 配置）：请在本机设置同一个 BDD_SECRET_KEY，"
                                "否则已签发的令牌和二维码链接会失效。")
    if head() != manifest["schema_revision"]:
        report.notes.append(f"数据库结构已从 {manifest['schema_revision']} 升级到 {head()}。")
    return report
