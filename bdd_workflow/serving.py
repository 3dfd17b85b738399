"""`bdd serve`: the application process and the HTTP server in front of it.

Two servers, one application. **granian** (the default) parses HTTP in compiled code (Rust, hyper)
and calls the WSGI application on a thread pool; on this project's 2-core machine a request through
Flask cost 0.34–0.39 ms of web stack under granian against 0.53–0.64 ms under waitress, and task
completions through the API went from 354–358/s to 390–413/s (bench/task_cycle.py).
**waitress** (pure Python) stays available with ``--server waitress``, for a platform granian
has no wheel for.

Under granian the application is built in its worker process by ``application()``: there the
background WAL checkpointer and the embedded timer scheduler start, and they stop when the worker
exits. granian also starts every request's WSGI environ from a copy of the process environment;
``WithoutProcessEnvironment`` takes that copy out again.
"""

from __future__ import annotations

import atexit
import gc
import importlib.util
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask

SERVERS = ("granian", "waitress")


def default_server() -> str:
    """BDD_SERVER if set, else granian when it is installed, else waitress."""
    chosen = os.environ.get("BDD_SERVER", "").strip().lower()
    if chosen in SERVERS:
        return chosen
    return "granian" if importlib.util.find_spec("granian") is not None else "waitress"


def build(echo=None) -> tuple[Flask, Any]:
    """The application with what a long-running server process adds: background WAL checkpoints,
    the embedded timer scheduler (unless BDD_EMBEDDED_SCHEDULER=0) and a frozen start-up heap."""
    from .app import create_app
    from .scheduler import TimerScheduler
    from .system import create_system

    system = create_system()
    system.db.start_background_checkpoints(system.settings.sqlite_checkpoint_seconds)
    app = create_app(system=system)
    scheduler = None
    if system.settings.embedded_scheduler:
        scheduler = TimerScheduler(system, poll_seconds=system.settings.scheduler_poll_seconds)
        scheduler.start()
        if echo:
            echo("计时器调度已在本进程内运行（多进程部署请设 BDD_EMBEDDED_SCHEDULER=0 并单独运行 bdd scheduler）。")
    # Everything loaded so far (modules, metadata, specs) lives as long as the process: keep it out
    # of the collector's full passes, which otherwise walk it again every few hundred requests.
    gc.collect()
    gc.freeze()
    return app, scheduler


def _stop(system, scheduler) -> None:
    if scheduler is not None:
        scheduler.shutdown()
    system.db.dispose()


# What a WSGI server sets from the request and the connection themselves (PEP 3333, CGI).
REQUEST_KEYS = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
    "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_HOST",
    "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "HTTPS", "RAW_URI", "REQUEST_URI",
})


class WithoutProcessEnvironment:
    """granian builds each request's WSGI environ on a copy of ``os.environ``. Left there, the
    secret key and the database URL travel with every request into whatever reads the environ, and
    a variable named ``HTTP_*`` reads as a header the client never sent: ``HTTP_PROXY`` as a
    ``Proxy`` header (the "httpoxy" confusion), ``HTTP_AUTHORIZATION`` as every caller's login.
    This removes each copied variable again, unless the request itself set that key to another
    value (a header the client did send). A client header equal to a server variable of the same
    ``HTTP_*`` name is taken out too: it cannot be told from the copy, and failing closed is right."""

    def __init__(self, app: Callable, environment: Mapping[str, str]) -> None:
        self.app = app
        self.copied: tuple[tuple[str, str], ...] = tuple(
            (key, value) for key, value in environment.items() if key not in REQUEST_KEYS)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        for key, value in self.copied:
            if environ.get(key) == value:
                del environ[key]
        return self.app(environ, start_response)


def application() -> Flask:
    """granian's factory, called once in its worker process."""
    app, scheduler = build(echo=print)
    app.wsgi_app = WithoutProcessEnvironment(app.wsgi_app, os.environ)
    atexit.register(_stop, app.extensions["bdd"], scheduler)
    return app


def granian(target: str, host: str, port: int, threads: int, working_dir=None):
    """granian as `bdd serve` runs it: one worker process building the WSGI application from the
    factory ``target``, ``threads`` threads calling it, HTTP/1.1. bench/task_cycle.py serves its
    floor with the same."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    options = {"working_dir": working_dir} if working_dir is not None else {}
    return Granian(target=target, factory=True, interface=Interfaces.WSGI, address=host, port=port, workers=1,
                   blocking_threads=threads, http=HTTPModes.http1,
                   log_level="error", **options)  # its own notices are in English; errors still show


def serve(host: str, port: int, threads: int, server: str, echo) -> None:
    if server == "granian":
        echo(f"服务已启动: http://{host}:{port}/  （API: http://{host}:{port}/api/v1/openapi.json；granian）")
        granian("bdd_workflow.serving:application", host, port, threads).serve()
        return
    from waitress import serve as waitress_serve

    app, scheduler = build(echo=echo)
    echo(f"服务已启动: http://{host}:{port}/  （API: http://{host}:{port}/api/v1/openapi.json；waitress）")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="bdd")
    finally:
        _stop(app.extensions["bdd"], scheduler)
