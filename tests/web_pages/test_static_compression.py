"""Scripts and style sheets travel gzip-compressed to browsers that accept it (the public 五公开 page's
diagram viewer, the staff pages' scripts, the administrators' modeler bundle), with validators that
let a browser revalidate each encoding; other clients, images and fonts get the file as it is."""

from __future__ import annotations

import gzip
import os

from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.views import public as public_views
from bdd_workflow.views.static_files import STATIC_FILES

STATIC = PROJECT_ROOT / "web" / "static"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_page_script_is_sent_compressed_to_a_browser_and_as_it_is_to_others(client):
    original = (STATIC / "staff.js").read_bytes()
    compressed = client.get("/static/staff.js", headers=GZIP)
    assert compressed.status_code == 200 and compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.mimetype == "text/javascript" and "Accept-Encoding" in compressed.headers["Vary"]
    assert gzip.decompress(compressed.data) == original
    assert int(compressed.headers["Content-Length"]) == len(compressed.data) < len(original) / 2

    plain = client.get("/static/staff.js")  # no Accept-Encoding: the file itself
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers and plain.data == original
    assert "Accept-Encoding" in plain.headers["Vary"]
    refused = client.get("/static/staff.js", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in refused.headers and refused.data == original


def test_a_browser_revalidates_the_compressed_file_and_gets_a_304(client):
    first = client.get("/static/app.css", headers=GZIP)
    etag = first.headers["ETag"]
    assert first.headers["Content-Encoding"] == "gzip" and "gzip" in etag
    again = client.get("/static/app.css", headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # The other encoding has another validator: a cached plain copy is never taken for the gzip one.
    plain = client.get("/static/app.css")
    assert plain.headers["ETag"] != etag
    assert client.get("/static/app.css", headers={**GZIP, "If-None-Match": plain.headers["ETag"]}).status_code == 200


def test_a_changed_file_is_compressed_again(app, tmp_path):
    files = app.extensions[STATIC_FILES]
    sheet = tmp_path / "sheet.css"

    def served() -> bytes:
        with app.test_request_context("/static/sheet.css", headers=GZIP):
            response = files.send(sheet, max_age=None)
            response.direct_passthrough = False
            return gzip.decompress(response.get_data())

    sheet.write_text("body { color: #333; }\n" * 100, encoding="utf-8")
    assert served() == sheet.read_bytes()
    sheet.write_text("main { margin: 0 auto; }\n" * 120, encoding="utf-8")
    stat = sheet.stat()
    os.utime(sheet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert served() == sheet.read_bytes()


def test_small_files_images_and_fonts_are_sent_as_they_are_and_paths_stay_inside_static(client):
    fonts = sorted((STATIC / "dist" / "assets").glob("*.woff2")) if (STATIC / "dist" / "assets").is_dir() else []
    for font in fonts[:1]:
        sent = client.get(f"/static/dist/assets/{font.name}", headers=GZIP)
        assert sent.status_code == 200 and "Content-Encoding" not in sent.headers and sent.data == font.read_bytes()
    assert client.get("/static/../pyproject.toml", headers=GZIP).status_code == 404
    assert client.get("/static/no-such-file.js", headers=GZIP).status_code == 404


def test_the_public_diagram_viewer_is_sent_compressed_and_cached_a_day(client, monkeypatch, tmp_path):
    """The vendor route (bpmn-js from web/node_modules) takes the same way, keeping its day of caching."""
    viewer = tmp_path / public_views.VENDOR_FILES[public_views.VIEWER]
    viewer.parent.mkdir(parents=True)
    viewer.write_text("/*! bpmn-js */\n" + "var a=function(b){return b+1};\n" * 2000, encoding="utf-8")
    monkeypatch.setattr(public_views, "NODE_MODULES", tmp_path)
    sent = client.get(f"/vendor/{public_views.VIEWER}", headers=GZIP)
    assert sent.status_code == 200 and sent.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(sent.data) == viewer.read_bytes() and len(sent.data) < viewer.stat().st_size / 2
    assert "max-age=86400" in sent.headers["Cache-Control"]
