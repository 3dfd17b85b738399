"""What the end-to-end tests share besides their fixtures (conftest.py): a real `bdd serve` on a
fresh instance, a JSON call to it, and a person at a browser. A module of its own, so that tests
import it by a name no other conftest.py shares."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bdd_workflow.config import PROJECT_ROOT

CHROMIUM = os.environ.get("BDD_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
# The README's pictures are taken by the tests that show those pages. An ordinary run leaves them in
# test-artifacts/screenshots/readme/ (the work tree stays as the clone had it: a picture never comes
# out pixel-identical twice); BDD_README_SCREENSHOTS=1 writes them over docs/screenshots/ as well.
README_PICTURES = PROJECT_ROOT / "docs" / "screenshots"
FAILURES = PROJECT_ROOT / "test-artifacts" / "e2e-failures"
SERVER_LOG: list[Path] = []  # the running server's log, shown when a test fails
LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(tmp_path_factory, name: str, env: dict[str, str] | None = None,
                   prepare: Callable[[Path], None] | None = None) -> Iterator[str]:
    """`bdd serve` on a free port with the demo county, in a fresh instance folder named ``name``: init,
    load-demo, deploy the processes, then ``prepare(instance)`` if given (before the server starts), then
    serve. ``env`` adds to or overrides the server's environment. Yields the base URL; the server's log is
    the one shown when a test fails while it runs."""
    instance = tmp_path_factory.mktemp(name)
    # Every browser of the run logs in from 127.0.0.1: one address for a whole office's logins.
    env = dict(os.environ, BDD_INSTANCE_DIR=str(instance), BDD_SECRET_KEY="e2e-secret",
               BDD_DATABASE_URL=f"sqlite:///{instance / 'bdd.sqlite3'}", BDD_SCHEDULER_POLL_SECONDS="0.5",
               BDD_LOGIN_RATE_PER_ADDRESS="600 per minute") | (env or {})
    env.pop("BDD_TEST_DATABASE_URL", None)
    cli = [sys.executable, "-m", "bdd_workflow.cli"]
    for command in (["init"], ["load-demo"], ["deploy", str(PROJECT_ROOT / "processes")]):
        subprocess.run(cli + command, env=env, check=True, stdout=subprocess.DEVNULL)
    if prepare is not None:
        prepare(instance)
    port = _free_port()
    log_path = instance / "server.log"
    previous_log = SERVER_LOG[:]
    with open(log_path, "w") as log:
        SERVER_LOG[:] = [log_path]
        process = subprocess.Popen(cli + ["serve", "--port", str(port)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None:
                        raise RuntimeError(log_path.read_text())
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            SERVER_LOG[:] = previous_log


def api(server: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    """A JSON call to the server's /api/v1 (with a bearer token when given); the decoded answer."""
    request = urllib.request.Request(server + path, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def readme_picture(target, name: str, **options) -> Path:
    """A picture of the README (``name``.png) of ``target``, a page or a locator; ``options`` go to its
    ``screenshot``. Returns the copy under test-artifacts."""
    path = SCREENSHOTS / "readme" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(path), **options)
    if os.environ.get("BDD_README_SCREENSHOTS") == "1":
        README_PICTURES.mkdir(parents=True, exist_ok=True)
        (README_PICTURES / path.name).write_bytes(path.read_bytes())
    return path


class Album:
    """The numbered screenshots of one scenario, shared by everyone in it: ``proxy-case-07-agent-sign-entrustment``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        for old in SCREENSHOTS.glob(f"{prefix}-[0-9][0-9]-*.png"):  # a previous run's sequence
            old.unlink(missing_ok=True)

    def label(self, description: str) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count:02d}-{description}"


class Person:
    """One person at one browser: a fresh context (own cookies), Chinese locale, screenshots by name."""

    def __init__(self, browser, base_url: str, name: str, album: Album | None = None) -> None:
        self.context = browser.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.name = name
        self.album = album

    def shot(self, label: str, part=None) -> Path:
        """The whole page as a PNG; with ``part`` (a locator), only that part of it."""
        path = SCREENSHOTS / f"{label}.png"
        if part is not None:
            part.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=True)
        return path

    def snap(self, description: str, part=None) -> Path:
        """A numbered screenshot of the page as it is now (or of ``part`` of it), in the scenario's sequence."""
        assert self.album is not None, "snap() needs a person made by the person fixture"
        return self.shot(self.album.label(description), part)

    def login(self, username: str, password: str = "demo1234", shot: str | None = None) -> None:
        """Sign in; with ``shot``, the page signed in to (the inbox) is photographed under that description."""
        self.page.goto("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/login" not in url)
        if shot:
            self.snap(shot)

    def close(self) -> None:
        self.context.close()
