"""Files kept with a case (R-9.2.1 signed entrustment, R-9.2.3 signed receipt, R-9.4 audio/video/photos).
Stored under instance/uploads; the database row and the file are written together or not at all."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..db.models import Attachment
from ..errors import DomainError, FormInvalid, NotFound
from ..system import System
from .audit import audit
from .cases import load_visible_case
from .identity import Actor

KINDS = {"material": "申请材料", "signature": "签名", "photo": "照片", "audio": "录音", "video": "视频", "document": "文书"}
# What each kind may be: content type -> (extension, magic bytes that start such a file, or None)
ALLOWED = {
    "image/jpeg": (".jpg", b"\xff\xd8\xff"), "image/png": (".png", b"\x89PNG"), "application/pdf": (".pdf", b"%PDF"),
    "audio/mpeg": (".mp3", None), "audio/mp4": (".m4a", None), "audio/wav": (".wav", b"RIFF"),
    "video/mp4": (".mp4", None), "video/webm": (".webm", b"\x1a\x45\xdf\xa3"),
}
MAX_BYTES = 50 * 1024 * 1024


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(filename or "file").name)[:120]
    return name or "file"


def add(system: System, actor: Actor, case_id: int, kind: str, data: bytes, filename: str,
        content_type: str, task_id: str | None = None, note: str | None = None) -> dict[str, Any]:
    if kind not in KINDS:
        raise FormInvalid({"kind": [f"附件类型应为: {', '.join(KINDS)}。"]})
    if not data:
        raise FormInvalid({"file": ["文件是空的。"]})
    if len(data) > MAX_BYTES:
        raise FormInvalid({"file": [f"文件超过 {MAX_BYTES // (1024 * 1024)} MB。"]})
    allowed = ALLOWED.get((content_type or "").split(";")[0].strip().lower())
    if allowed is None:
        raise FormInvalid({"file": ["只接受 JPG、PNG、PDF、MP3、M4A、WAV、MP4、WEBM 文件。"]})
    extension, magic = allowed
    if magic and not data.startswith(magic):
        raise FormInvalid({"file": ["文件内容与类型不符。"]})
    now = system.clock.now()
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(str(case_id)) / f"{uuid.uuid4().hex}{extension}"
    target = system.settings.instance_dir / "uploads" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    try:
        with system.db.unit_of_work() as session:
            load_visible_case(system, session, actor, case_id)
            row = Attachment(case_id=case_id, task_id=task_id, kind=kind, filename=_safe_name(filename),
                             content_type=content_type, size=len(data), sha256=digest, storage_path=str(relative),
                             note=note, uploaded_by=actor.username, uploaded_at=now)
            session.add(row)
            session.flush()
            audit(session, now, actor.username, "attachment_added", case_id=case_id, task_id=task_id,
                  detail={"kind": kind, "filename": row.filename, "size": len(data), "sha256": digest})
            return view(row)
    except BaseException:
        target.unlink(missing_ok=True)  # no orphan file without its row
        raise


def view(row: Attachment) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "task_id": row.task_id, "kind": row.kind,
            "kind_label": KINDS.get(row.kind, row.kind), "filename": row.filename, "content_type": row.content_type,
            "size": row.size, "note": row.note, "uploaded_by": row.uploaded_by, "uploaded_at": row.uploaded_at}


def list_for_case(system: System, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    with system.db.unit_of_work(write=False) as session:
        load_visible_case(system, session, actor, case_id)
        rows = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
        return [view(r) for r in rows]


def has_kind(session, case_id: int, kind: str, task_id: str | None = None) -> bool:
    query = select(Attachment.id).where(Attachment.case_id == case_id, Attachment.kind == kind)
    if task_id:
        query = query.where(Attachment.task_id == task_id)
    return session.scalar(query.limit(1)) is not None


def content(system: System, actor: Actor, attachment_id: int) -> tuple[dict[str, Any], bytes]:
    with system.db.unit_of_work(write=False) as session:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound("附件不存在。")
        load_visible_case(system, session, actor, row.case_id)
        path = system.settings.instance_dir / "uploads" / row.storage_path
        if not path.exists():
            raise DomainError("附件文件已丢失，请联系管理员。")
        return view(row), path.read_bytes()
