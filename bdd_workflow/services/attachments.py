"""Files kept with a case (R-9.2.1 signed entrustment, R-9.2.3 signed receipt, R-9.4 audio/video/photos).
Stored under instance/uploads; the database row and the file are written together or not at all."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..db.models import Attachment, HumanTask
from ..errors import DomainError, Forbidden, FormInvalid, NotFound, StorageUnavailable
from ..system import System
from . import access
from .audit import audit
from .cases import load_visible_case
from .identity import Actor

KINDS = {"material": "申请材料", "signature": "签名", "photo": "照片", "audio": "录音", "video": "视频", "document": "文书"}
# What a file may be: content type -> (the extension it is stored and served under, its name in Chinese).
# The type is what the file's first bytes say (sniff), never what the client declared.
ALLOWED = {
    "image/jpeg": (".jpg", "JPG 图片"), "image/png": (".png", "PNG 图片"), "application/pdf": (".pdf", "PDF 文件"),
    "audio/mpeg": (".mp3", "MP3 音频"), "audio/mp4": (".m4a", "M4A 音频"), "audio/wav": (".wav", "WAV 音频"),
    "video/mp4": (".mp4", "MP4 视频"), "video/webm": (".webm", "WEBM 视频"),
}
# Names browsers and other clients use for the same types.
ALIASES = {
    "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg", "audio/x-mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg", "audio/x-mpeg": "audio/mpeg", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav", "audio/x-m4a": "audio/mp4", "audio/m4a": "audio/mp4",
}
# Declared types that say nothing: the first bytes decide alone.
UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
# A photo is an image, a recording audio, a video a video; other kinds take any allowed type.
KIND_TYPES = {"photo": "image/", "audio": "audio/", "video": "video/"}
ACCEPTED = "JPG、PNG、PDF、MP3、M4A、WAV、MP4、WEBM"
MAX_BYTES = 50 * 1024 * 1024


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a valid version, layer, bitrate and sample rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


# The kernel's answers that mean the storage, not the file, is the trouble.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG, errno.EIO}


def sniff(data: bytes) -> str | None:
    """The allowed type the file's first bytes (its magic number) say it is, or None."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:  # EBML whose doctype is webm
        return "video/webm"
    if head[4:8] == b"ftyp" and int.from_bytes(head[:4], "big") >= 8:  # ISO base media (MP4)
        return "audio/mp4" if head[8:12] in (b"M4A ", b"M4B ") else "video/mp4"
    if (head.startswith(b"ID3") and len(head) >= 10 and head[3] in (2, 3, 4)) or _mpeg_audio_frame(head):
        return "audio/mpeg"
    return None


def _checked_type(data: bytes, declared: str, kind: str, filename: str) -> str:
    """The type the file is stored and served as: what its first bytes say, when that agrees with the
    declared type and the kind; else FormInvalid naming the file field."""
    declared = (declared or "").split(";")[0].strip().lower()
    declared = ALIASES.get(declared, declared)
    detected = sniff(data)
    name = Path(filename or "").name[:60] or "上传的文件"
    if declared not in ALLOWED and declared not in UNDECLARED:
        raise FormInvalid({"file": [f"文件“{name}”的类型（{declared}）不在允许之列：只接受 {ACCEPTED} 文件。"]})
    if detected is None:
        if declared in ALLOWED:
            raise FormInvalid({"file": [f"文件内容与类型不符：“{name}”标明是{ALLOWED[declared][1]}，但开头的字节不是。"
                                        f"只接受 {ACCEPTED} 文件。"]})
        raise FormInvalid({"file": [f"文件内容与类型不符：按开头的字节判断，“{name}”不是 {ACCEPTED} 文件。"]})
    # One MP4 container holds sound or pictures: the declared type, or the kind, says which.
    if detected in ("audio/mp4", "video/mp4") and (declared in ("audio/mp4", "video/mp4") or kind in ("audio", "video")):
        detected = declared if declared in ("audio/mp4", "video/mp4") else f"{kind}/mp4"
    if declared in ALLOWED and declared != detected:
        raise FormInvalid({"file": [f"文件内容与类型不符：“{name}”标明是{ALLOWED[declared][1]}，内容却是"
                                    f"{ALLOWED[detected][1]}，请确认后重新选择文件。"]})
    wanted = KIND_TYPES.get(kind)
    if wanted and not detected.startswith(wanted):
        raise FormInvalid({"file": [f"文件“{name}”是{ALLOWED[detected][1]}，不能作为{KINDS[kind]}上传。"]})
    return detected


def _safe_name(filename: str, content_type: str | None = None) -> str:
    """A name safe to store and send; with ``content_type``, ending in that type's extension."""
    name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(filename or "file").name)[:120] or "file"
    if content_type in ALLOWED:
        stem = Path(name).stem if Path(name).suffix else name
        name = (stem.strip(".") or "file")[:110] + ALLOWED[content_type][0]
    return name


def add(system: System, actor: Actor, case_id: int, kind: str, data: bytes, filename: str,
        content_type: str, task_id: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Keep a file with a case. Its type is what its first bytes say (checked against the declared type
    and the kind); it is stored and later served under that type and its extension."""
    if kind not in KINDS:
        raise FormInvalid({"kind": [f"附件类型应为: {', '.join(KINDS)}。"]})
    if not data:
        raise FormInvalid({"file": ["文件是空的。"]})
    if len(data) > MAX_BYTES:
        raise FormInvalid({"file": [f"文件超过 {MAX_BYTES // (1024 * 1024)} MB。"]})
    content_type = _checked_type(data, content_type, kind, filename)
    extension = ALLOWED[content_type][0]
    now = system.clock.now()
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(str(case_id)) / f"{uuid.uuid4().hex}{extension}"
    target = system.settings.instance_dir / "uploads" / relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)  # a part written before the disk filled
        if exc.errno in STORAGE_ERRNOS:  # a full or read-only disk: nothing kept, the server goes on
            raise StorageUnavailable() from None
        raise
    try:
        with system.db.unit_of_work() as session:
            load_visible_case(system, session, actor, case_id)
            if kind == "signature":
                _may_sign(system, session, actor, case_id, task_id)
            row = Attachment(case_id=case_id, task_id=task_id, kind=kind, filename=_safe_name(filename, content_type),
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


def _may_sign(system: System, session, actor: Actor, case_id: int, task_id: str | None) -> None:
    """The applicant's signature completes a step (forms' x-signature): it is kept only for an open step of
    this case that the uploader may work, so nobody who merely sees a case can sign in the applicant's name."""
    task = session.get(HumanTask, task_id) if task_id else None
    if task is None or task.case_id != case_id or task.status != "ready":
        raise FormInvalid({"signature": ["签名须在办件待签字的步骤上上传（该步骤已办理或不存在）。"]})
    if not access.may_work(system, session, actor, task.role, task.unit_code) or \
            task.assignee not in (None, actor.username):
        raise Forbidden("只有办理这一步的工作人员可以为服务对象上传签名（R-6.2）。")


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
        data, meta = path.read_bytes(), view(row)
    # Served as what its bytes are, whatever was recorded when it was kept (files stored before the
    # first bytes were checked too): anything else is an opaque download.
    detected = sniff(data)
    if detected in ("audio/mp4", "video/mp4") and meta["content_type"] in ("audio/mp4", "video/mp4"):
        detected = meta["content_type"]
    meta["content_type"] = detected or "application/octet-stream"
    meta["filename"] = _safe_name(meta["filename"], detected) if detected else _safe_name(meta["filename"]) + ".bin"
    return meta, data
