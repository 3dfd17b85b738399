"""Static files gzip-compressed for the clients that accept it: the modeler bundle (1.8 MB, 0.48 MB
compressed), the bpmn-js viewer of the public 五公开 page and the staff diagrams (195 KB, 55 KB), the
style sheets and page scripts.

Each file is compressed once per version (path, size, modification time) and kept in memory; a
request for it is then a dictionary lookup, with the ETag, Last-Modified, 304 and Range handling of
Werkzeug's send_file. flask-compress was the library to hand, but it compresses a streamed file
(which send_file's responses are) again on every request. Images and fonts are sent as they are:
they are compressed already.
"""

from __future__ import annotations

import gzip
import io
import mimetypes
import threading
from pathlib import Path

from flask import Flask, Response, abort, request, send_file
from werkzeug.security import safe_join

COMPRESSIBLE = frozenset({".js", ".css", ".map", ".svg", ".json", ".txt", ".html"})
MIN_SIZE = 1024  # below a packet, compressing saves nothing
MAX_ENTRIES = 64  # the app has a few dozen static files; a bound all the same
STATIC_FILES = "bdd_static_files"  # app.extensions key: the vendor route sends through the same cache


class CompressedFiles:
    """gzip bodies by file version, computed on first request."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[int, int, bytes]] = {}
        self._lock = threading.Lock()

    def gzipped(self, path: Path, size: int, mtime_ns: int) -> bytes:
        entry = self._entries.get(path)
        if entry is not None and entry[0] == size and entry[1] == mtime_ns:
            return entry[2]
        with self._lock:
            entry = self._entries.get(path)
            if entry is None or entry[0] != size or entry[1] != mtime_ns:
                # mtime=0: the same bytes for the same file, whenever they were compressed.
                body = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                entry = self._entries[path] = (size, mtime_ns, body)
        return entry[2]

    def send(self, path: Path, max_age: int | None) -> Response:
        """``path`` (a file the caller has checked) compressed when the client accepts gzip."""
        stat = path.stat()
        compressible = path.suffix in COMPRESSIBLE and stat.st_size >= MIN_SIZE
        if not compressible or request.accept_encodings["gzip"] <= 0:
            response = send_file(path, max_age=max_age, conditional=True)
        else:
            body = self.gzipped(path, stat.st_size, stat.st_mtime_ns)
            response = send_file(io.BytesIO(body), mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                                 max_age=max_age, conditional=True, last_modified=stat.st_mtime,
                                 etag=f"gzip-{stat.st_mtime_ns:x}-{stat.st_size:x}")
            response.headers["Content-Encoding"] = "gzip"
        if compressible:
            response.vary.add("Accept-Encoding")
        return response


def serve_static_compressed(app: Flask) -> CompressedFiles:
    """Flask's /static route, answered through one CompressedFiles (same folder, same path rules,
    same max age), kept in ``app.extensions[STATIC_FILES]`` for the other routes that send files."""
    files = app.extensions[STATIC_FILES] = CompressedFiles()
    folder = app.static_folder

    def static(filename: str):
        found = safe_join(folder, filename) if folder else None
        if found is None or not Path(found).is_file():
            abort(404)
        return files.send(Path(found), app.get_send_file_max_age(filename))

    app.view_functions["static"] = static
    return files
