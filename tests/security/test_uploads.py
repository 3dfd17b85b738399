"""Issue 16, finding D: an upload is what its first bytes say. Every allowed type is checked by its magic
number; a file is stored and served under the detected type and that type's extension; a mismatch is a
422 whose Chinese message names the file field, and nothing is kept (no row, no file)."""

from __future__ import annotations

import io
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bdd_workflow.db.models import Attachment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes_support import bearer, csrf, make_app, signed_in, text  # noqa: E402

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200ff9a5d6d0a0000000049454e44ae426082")
# The first bytes of a real file of each allowed type, then some body.
SAMPLES = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + b"\x00" * 64,
    "image/png": PNG,
    "application/pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "audio/mpeg": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 64,
    "audio/mp4": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 64,
    "audio/wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00" + b"\x00" * 64,
    "video/mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64,
    "video/webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
                  b"\x42\x82\x84webm" + b"\x00" * 64,
}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "audio/mpeg": ".mp3",
              "audio/mp4": ".m4a", "audio/wav": ".wav", "video/mp4": ".mp4", "video/webm": ".webm"}
KIND_OF = {"image": "photo", "audio": "audio", "video": "video", "application": "material"}


@pytest.fixture
def app(system):
    return make_app(system)


@pytest.fixture
def case(desk) -> dict:
    return desk.start("assist", by="gaohongxia", matter_code="GR-007")


def kept(system, case_id: int) -> tuple[int, list[Path]]:
    """(attachment rows, files under instance/uploads) of a case."""
    with system.db.unit_of_work(write=False) as session:
        rows = session.scalar(select(func.count(Attachment.id)).where(Attachment.case_id == case_id))
    folder = system.settings.instance_dir / "uploads" / str(case_id)
    return rows, sorted(folder.iterdir()) if folder.exists() else []


def api_upload(client, system, case_id: int, data: bytes, filename: str, content_type: str, kind: str):
    return client.post(f"/api/v1/cases/{case_id}/attachments", headers=bearer(system, "gaohongxia"),
                       data={"kind": kind, "file": (io.BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data")


def assert_refused(response) -> str:
    assert response.status_code == 422, response.status_code
    messages = response.get_json()["errors"]["file"]
    assert messages and all("文件" in m for m in messages)
    return messages[0]


def test_an_html_page_declared_as_any_allowed_type_is_refused_and_nothing_kept(app, system, case):
    client = app.test_client()
    for content_type, extension in EXTENSIONS.items():
        kind = KIND_OF[content_type.split("/")[0]]
        for filename in (f"page{extension}", "page.html"):
            response = api_upload(client, system, case["id"], HTML, filename, content_type, kind)
            assert_refused(response)
    assert kept(system, case["id"]) == (0, [])


def test_a_file_whose_bytes_are_another_allowed_type_is_refused(app, system, case):
    client = app.test_client()
    message = assert_refused(api_upload(client, system, case["id"], PNG, "录音.mp3", "audio/mpeg", "audio"))
    assert "MP3" in message and "PNG" in message
    assert_refused(api_upload(client, system, case["id"], SAMPLES["audio/wav"], "photo.png", "image/png", "photo"))
    # a photo must be a picture, a recording sound
    assert_refused(api_upload(client, system, case["id"], SAMPLES["application/pdf"], "x.pdf", "application/pdf", "audio"))
    assert_refused(api_upload(client, system, case["id"], HTML, "x.html", "text/html", "material"))
    assert kept(system, case["id"]) == (0, [])


def test_every_allowed_type_is_kept_and_served_under_its_detected_extension(app, system, case):
    client = app.test_client()
    staff = signed_in(app, system, "gaohongxia")
    for content_type, data in SAMPLES.items():
        kind = KIND_OF[content_type.split("/")[0]]
        # a misleading name (or a client that says nothing of the type) changes nothing: the bytes decide
        for filename, declared in ((f"材料{uuid.uuid4().hex[:6]}.html", content_type),
                                   (f"材料{uuid.uuid4().hex[:6]}", "application/octet-stream")):
            response = api_upload(client, system, case["id"], data, filename, declared, kind)
            assert response.status_code == 201, (content_type, declared, response.get_json())
            saved = response.get_json()
            stem = filename.rsplit(".", 1)[0] if filename.endswith(".html") else filename
            assert saved["filename"] == stem + EXTENSIONS[content_type]
            assert saved["content_type"] == content_type
            for url in (f"/api/v1/attachments/{saved['id']}", f"/attachments/{saved['id']}",
                        f"/documents/attachments/{saved['id']}"):
                served = (client.get(url, headers=bearer(system, "gaohongxia")) if url.startswith("/api/")
                          else staff.get(url))
                assert served.status_code == 200 and served.data == data, url
                assert served.mimetype == content_type, url
                disposition = served.headers["Content-Disposition"]
                assert EXTENSIONS[content_type] in disposition and ".html" not in disposition, url
                assert served.headers["X-Content-Type-Options"] == "nosniff"
    rows, files = kept(system, case["id"])
    assert rows == len(files) == 2 * len(SAMPLES)
    assert {f.suffix for f in files} == set(EXTENSIONS.values())


def test_the_archive_page_refuses_a_disguised_recording_next_to_the_file_field(app, system, desk):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-007")
    staff = signed_in(app, system, "gaohongxia")
    archive = f"/documents/cases/{case['id']}/archive"
    response = staff.post(f"{archive}/media", data={
        "csrf_token": csrf(staff, archive), "kind": "audio", "note": "回访录音",
        "file": (io.BytesIO(HTML), "回访.html", "audio/mpeg")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "文件内容与类型不符" in text(response) and "MP3" in text(response)
    assert kept(system, case["id"]) == (0, [])

    # the case page's upload form too: the case page again, with the reason, and a 422
    page = f"/cases/{case['id']}"
    response = staff.post(f"/cases/{case['id']}/attachments", data={
        "csrf_token": csrf(staff, page), "kind": "audio", "next": page,
        "file": (io.BytesIO(HTML), "录音.mp3", "audio/mpeg")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "文件内容与类型不符" in text(response)
    assert kept(system, case["id"]) == (0, [])


def test_a_file_kept_before_the_check_is_served_as_an_opaque_download(app, system, case):
    """A row written before first bytes were checked (HTML kept as audio/mpeg under its .html name) is not
    served inline as HTML any more: its bytes are no allowed type."""
    folder = system.settings.instance_dir / "uploads" / str(case["id"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "old.mp3").write_bytes(HTML)
    with system.db.unit_of_work() as session:
        row = Attachment(case_id=case["id"], kind="audio", filename="evil.html", content_type="audio/mpeg",
                         size=len(HTML), sha256="0" * 64, storage_path=f"{case['id']}/old.mp3",
                         uploaded_by="gaohongxia", uploaded_at=system.clock.now())
        session.add(row)
        session.flush()
        attachment_id = row.id
    staff = signed_in(app, system, "gaohongxia")
    for url in (f"/documents/attachments/{attachment_id}", f"/attachments/{attachment_id}"):
        served = staff.get(url)
        assert served.status_code == 200
        assert served.mimetype == "application/octet-stream"
        disposition = served.headers["Content-Disposition"]
        assert disposition.startswith("attachment") and not disposition.rstrip('"').endswith(".html")
