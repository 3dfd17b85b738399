"""Staff pages around the papers of a case: the printable 代办服务委托书 (R-9.2.1), 办结单 (R-9.2.3) and
一次性告知单 (R-5.4) with the applicant's signature, the 差评整改书面情况说明 (R-10.2), the window's rating
device (评价器 R-7.2.1), and the archive with its write-ups (留档宣传 R-9.4). Each view parses the request, calls one service, renders.
What a staff member may see follows the services (R-6.2)."""

from __future__ import annotations

import base64
import binascii
import io
import re

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for

from ..errors import Conflict, DomainError, Forbidden, FormInvalid, NotFound
from ..services import attachments, evaluations, publicity, rectifications
from .public import qr_data_uri, status_url
from .web_common import allow_large_uploads, login_required, system

documents = Blueprint("documents", __name__, url_prefix="/documents")

# URL slug -> document kind of services.publicity.DOCUMENTS
SLUGS = {"entrustment": "entrustment", "completion-receipt": "completion_receipt", "notice": "notice"}
KIND_SLUGS = {kind: slug for slug, kind in SLUGS.items()}
DATA_URL = re.compile(r"^data:image/png;base64,([A-Za-z0-9+/=\s]+)$")
SIGNATURE_MAX_BYTES = 2 * 1024 * 1024
INLINE_TYPES = ("image/", "audio/", "video/")
allow_large_uploads(documents, {
    "documents.add_media": (attachments.MAX_BYTES + 64 * 1024, 1024 * 1024),
    "documents.sign": (SIGNATURE_MAX_BYTES * 2, SIGNATURE_MAX_BYTES * 2),
})


def _render_document(case_id: int, kind: str, errors: dict | None = None, status: int = 200):
    doc = publicity.document(system(), g.actor, case_id, kind)
    link = status_url(doc["case"]["number"])
    return render_template(f"documents/{kind}.html", doc=doc, case=doc["case"], matter=doc["matter"],
                           qr=qr_data_uri(link), status_link=link, slug=KIND_SLUGS[kind],
                           errors=errors or {}, grades=evaluations.GRADES), status


@documents.get("/cases/<int:case_id>/entrustment")
@login_required
def entrustment(case_id: int):
    return _render_document(case_id, "entrustment")


@documents.get("/cases/<int:case_id>/completion-receipt")
@login_required
def completion_receipt(case_id: int):
    return _render_document(case_id, "completion_receipt")


@documents.get("/cases/<int:case_id>/notice")
@login_required
def notice(case_id: int):
    return _render_document(case_id, "notice")


@documents.get("/cases/<int:case_id>/rectification")
@login_required
def rectification(case_id: int):
    """The 差评整改书面情况说明 (R-10.2), printable: the rating it answers, each explanation and review."""
    doc = rectifications.explanation(system(), g.actor, case_id)
    return render_template("documents/rectification.html", doc=doc, case=doc["case"])


def _signature_upload() -> tuple[bytes, str, str]:
    """The drawn signature (a PNG data URL from the canvas) or an uploaded scan."""
    drawn = (request.form.get("signature_data") or "").strip()
    if drawn:
        match = DATA_URL.match(drawn)
        if not match:
            raise FormInvalid({"signature": ["手写签名的数据格式不正确，请重新签写。"]})
        try:
            data = base64.b64decode(re.sub(r"\s+", "", match.group(1)), validate=True)
        except (binascii.Error, ValueError):
            raise FormInvalid({"signature": ["手写签名的数据格式不正确，请重新签写。"]}) from None
        if len(data) > SIGNATURE_MAX_BYTES:
            raise FormInvalid({"signature": ["签名图片太大。"]})
        return data, "手写签名.png", "image/png"
    upload = request.files.get("signature_file")
    if upload is None or not upload.filename:
        raise FormInvalid({"signature": ["请先在签名区签字，或选择签名扫描件。"]})
    return upload.read(), upload.filename, upload.mimetype or ""


@documents.post("/cases/<int:case_id>/<slug>/signature")
@login_required
def sign(case_id: int, slug: str):
    kind = SLUGS.get(slug)
    if kind is None or kind == "notice":
        return redirect(url_for("documents.notice", case_id=case_id))
    try:
        data, filename, content_type = _signature_upload()
        publicity.add_signature(system(), g.actor, case_id, kind, data, filename, content_type)
    except FormInvalid as exc:
        return _render_document(case_id, kind, errors=exc.errors, status=422)
    flash("服务对象的签名已保存。", "success")
    return redirect(url_for(f"documents.{kind}", case_id=case_id), 303)


@documents.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """A file of a case (signature, photo, audio, video), for whoever may see the case."""
    meta, data = attachments.content(system(), g.actor, attachment_id)
    inline = meta["content_type"].startswith(INLINE_TYPES)
    response = send_file(io.BytesIO(data), mimetype=meta["content_type"], as_attachment=not inline,
                         download_name=meta["filename"], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the window's rating device (评价器) --------------------------------------------------------------

@documents.get("/counter")
@login_required
def counter():
    return render_template("documents/counter.html", recent=publicity.counter_cases(system(), g.actor))


@documents.post("/counter")
@login_required
def counter_start():
    """The staff member picks the case; the tablet turns to the applicant with the five grades."""
    try:
        case = publicity.counter_case(system(), g.actor, request.form.get("number", ""))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("documents.counter"), 303)
    return render_template("documents/counter_rate.html", case=case)


@documents.post("/counter/rate")
@login_required
def counter_rate():
    number = request.form.get("number", "")
    try:
        result = publicity.rate_at_window(system(), g.actor, number, request.form.get("satisfaction", ""))
    except Conflict as exc:  # a second tap, or rated meanwhile: one rating per case
        return render_template("documents/counter_thanks.html", ok=False, message=exc.message), 409
    except (Forbidden, NotFound):
        raise  # another unit's case is as absent as an unknown one: the 404 page
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("documents.counter"), 303)
    return render_template("documents/counter_thanks.html", ok=True, result=result,
                           message=f"您的评价“{result['label']}”已记录，感谢您的评价！")


# --- archive and publicity (留档宣传) -------------------------------------------------------------------

def _render_archive(case_id: int, errors: dict | None = None, values: dict | None = None, status: int = 200):
    info = publicity.archive(system(), g.actor, case_id)
    return render_template("documents/archive.html", info=info, case=info["case"], errors=errors or {},
                           values=values or {}, kinds={k: attachments.KINDS[k] for k in publicity.ARCHIVE_KINDS},
                           slugs=KIND_SLUGS), status


@documents.get("/cases/<int:case_id>/archive")
@login_required
def archive(case_id: int):
    return _render_archive(case_id)


@documents.post("/cases/<int:case_id>/archive/media")
@login_required
def add_media(case_id: int):
    upload = request.files.get("file")
    kind = request.form.get("kind", "")
    note = (request.form.get("note") or "").strip()[:500] or None
    try:
        if kind not in publicity.ARCHIVE_KINDS:
            raise FormInvalid({"kind": ["请选择照片、录音或视频。"]})
        if upload is None or not upload.filename:
            raise FormInvalid({"file": ["请选择要上传的文件。"]})
        attachments.add(system(), g.actor, case_id, kind, upload.read(), upload.filename, upload.mimetype or "",
                        note=note)
    except FormInvalid as exc:
        return _render_archive(case_id, errors=exc.errors, values={"kind": kind, "note": note or ""}, status=422)
    flash(f"{attachments.KINDS[kind]}已上传。", "success")
    return redirect(url_for("documents.archive", case_id=case_id), 303)


@documents.post("/cases/<int:case_id>/archive/writeups")
@login_required
def add_writeup(case_id: int):
    title, body = request.form.get("title", ""), request.form.get("body", "")
    try:
        publicity.create_draft(system(), g.actor, case_id, title, body)
    except FormInvalid as exc:
        return _render_archive(case_id, errors=exc.errors, values={"title": title, "body": body}, status=422)
    flash("宣传材料已保存为草稿，待首席服务专员或中心办公室审核发布。", "success")
    return redirect(url_for("documents.archive", case_id=case_id), 303)


@documents.post("/writeups/<int:publicity_id>/publish")
@login_required
def publish(publicity_id: int):
    row = publicity.publish(system(), g.actor, publicity_id)
    flash(f"《{row['title']}》已发布到公开页面。", "success")
    return redirect(url_for("documents.archive", case_id=row["case_id"]), 303)


@documents.post("/writeups/<int:publicity_id>/withdraw")
@login_required
def withdraw(publicity_id: int):
    row = publicity.withdraw(system(), g.actor, publicity_id)
    flash(f"《{row['title']}》已撤回，不再公开。", "success")
    return redirect(url_for("documents.archive", case_id=row["case_id"]), 303)
