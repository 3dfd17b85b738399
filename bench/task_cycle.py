"""Task completions per second: raw SpiffWorkflow cycle vs. the same work through the HTTP API,
and the web stack alone (the same server + Flask answering with a stored response) for the split.

Both sides do the same four assist steps per case (guide_materials, accompany_submission,
track_approval, hand_over_results; the last one also starts the callback case). The raw side
deserializes, completes, runs engine steps and serializes between every step, in memory. The API
side is one keep-alive HTTP client against `bdd serve` (granian or waitress, one worker) on a fresh SQLite
database: token auth, marshmallow, form validation, the engine, derived rows, commit.

For scale only, each round also runs the same steps with SpiffWorkflow as shipped (its own
serializer, which writes the spec into every state; its own calls): the ratio is taken against the
leaner raw cycle above, whose state leaves the spec out as this project stores it.

The three are measured round after round, side by side (raw, API, web stack, raw, ...), after a
warm-up of each, and each API round's ratio is taken against the raw rounds just before and after
it: on a shared machine whose speed drifts, measuring one side's rounds and then the other's put
the drift into the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bdd_workflow.clock import Clock  # noqa: E402
from bdd_workflow.engine.parser import DiagramParser  # noqa: E402
from bdd_workflow.engine.runner import Runner  # noqa: E402
from bdd_workflow.engine.scripting import RunContext  # noqa: E402
from bdd_workflow.engine.serializer import Serializer  # noqa: E402
from bdd_workflow.workdays import WorkingCalendar  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

HAND_OVER = {"handed_over_documents": ["审批决定书"], "all_handed_over": True}
STEPS = [
    ("guide_materials", {"guidance": "请按告知单准备材料。", "materials_complete": True}),
    ("accompany_submission", {"submitted": True, "approval_department": "成安县民政局", "submission_date": "2025-10-10"}),
    ("track_approval", {"tracking_notes": "审核中", "applicant_informed": True, "approval_result": "准予"}),
    ("hand_over_results", HAND_OVER),
]
START = {"applicant_name": "王芳", "applicant_phone": "13812345678", "applicant_type": "personal",
         "matter_code": "GR-002", "channel": "walk_in"}


class RawCycle:
    """The engine alone, in this process: deserialize, complete, engine steps, serialize."""

    def __init__(self) -> None:
        calendar = WorkingCalendar.load("Asia/Shanghai", "17:30")
        units = {"consultation_centre": "CA-ZX", "approval_bureau": "CA-SPJ", "county_centre": "CA"}
        self.ctx = lambda: RunContext(Clock(), calendar, {"contact": "PT30M", "complaint_days": 5,
                                                          "rectification_days": 10, "escalation_interval_days": 1,
                                                          "onsite_visit_days": 2, "applicant_reminder_days": 3,
                                                          "applicant_closure_days": 10, "handover_days": 5},
                                              units, unit_tree={code: ("county", None if code == "CA" else "CA")
                                                                for code in ("CA", "CA-MZ", "CA-ZX", "CA-SPJ")})
        parser = DiagramParser(self.ctx)
        dmn = (ROOT / "processes" / "handling_unit_routing.dmn").read_bytes()
        parsed = parser.parse((ROOT / "processes" / "assist.bpmn").read_bytes(), "assist.bpmn", [dmn]).processes[0]
        self.serializer, self.runner = Serializer(), Runner()
        self.spec, self.subs = self.serializer.load_spec(self.serializer.dump_spec(parsed.spec, parsed.subprocess_specs))
        self.seed = dict(START, matter_kind="personal", responsible_unit="CA-MZ", promised_days=20,
                         handling_unit="CA-MZ", started_unit="CA-MZ", matter_name="最低生活保障申请",
                         matter_department="成安县民政局")

    def round(self, cases: int) -> float:
        """Task completions per second over ``cases`` cases of four steps, each step from the stored
        state to the stored state."""
        states = [self.save(self.runner.start(self.spec, self.subs, self.seed, self.ctx()).workflow)
                  for _ in range(cases)]
        done = 0
        began = time.perf_counter()
        for state in states:
            for name, data in STEPS:
                workflow = self.load(state)
                self.step(workflow, name, data)
                state = self.save(workflow)
                done += 1
        return done / (time.perf_counter() - began)

    def load(self, state: str):
        return self.serializer.load_state(state, self.spec, self.subs)

    def save(self, workflow) -> str:
        return self.serializer.dump_state(workflow)

    def step(self, workflow, name: str, data: dict) -> None:
        task = next(t for t in self.runner.view(workflow, self.ctx()).ready if t.name == name)
        self.runner.complete(workflow, task.id, data, self.ctx())


class StockCycle(RawCycle):
    """For scale, not for the ratio: the same steps with SpiffWorkflow as shipped, its own serializer
    (the spec written into every state, as SpiffWorkflow stores a workflow) and its own calls
    (ready user tasks, run, engine steps), with none of this project's bookkeeping."""

    def load(self, state: str):
        workflow = self.serializer._full.deserialize_json(state)
        self.runner._attach(workflow, self.ctx())  # the diagrams' expressions need the restricted engine
        return workflow

    def save(self, workflow) -> str:
        workflow.script_engine = None  # SpiffWorkflow's serializer stores no script engine
        return self.serializer._full.serialize_json(workflow)

    def step(self, workflow, name: str, data: dict) -> None:
        task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == name)
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP/1.1 connection, as a program calling the API would hold it, kept lean: the
    client's own time lies in every request's wall time (one client waits for each answer before
    sending the next request), and http.client's header parsing alone took ~0.3 ms of it here.
    Each request goes out in one send; the answer is read by its Content-Length (or its chunks), its
    status checked and its JSON decoded."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.extra = b""
        self.buffer = b""

    def call(self, method: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
        payload = json.dumps(body).encode() if body is not None else b""
        self.sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(payload)}\r\n".encode() + self.extra + b"\r\n" + payload)
        status, headers = self._head()
        if headers.get(b"transfer-encoding") == b"chunked":
            data = self._chunked()
        else:
            data = self._exactly(int(headers.get(b"content-length", b"0")))
        answer = json.loads(data or b"{}")
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {answer}")
        return answer

    def _head(self) -> tuple[int, dict[bytes, bytes]]:
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        return int(lines[0].split(b" ", 2)[1]), headers

    def _exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._receive()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _chunked(self) -> bytes:
        parts = []
        while True:
            while b"\r\n" not in self.buffer:
                self._receive()
            size_line, self.buffer = self.buffer.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            chunk = self._exactly(size + 2)[:size]
            if size == 0:
                return b"".join(parts)
            parts.append(chunk)

    def _receive(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def login(self, username: str) -> None:
        token = self.call("POST", "/api/v1/auth/token", {"username": username, "password": "demo1234"})["token"]
        self.authorize(token)

    def authorize(self, token: str) -> None:
        self.extra = f"Authorization: Bearer {token}\r\n".encode()


def wait_for_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)


def measured(server: subprocess.Popen, count: int, work) -> tuple[float, float]:
    """Run ``work()`` (``count`` requests): requests per second, and the server's CPU ms per request."""
    cpu_before = cpu_seconds(server.pid)
    began = time.perf_counter()
    work()
    rate = count / (time.perf_counter() - began)
    return rate, (cpu_seconds(server.pid) - cpu_before) / count * 1000


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (Linux: granian serves from a worker
    process): steadier than wall time on a shared machine."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return total + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ApiServer:
    """`bdd serve` on a fresh SQLite database with the demo county, and one keep-alive client."""

    def __init__(self, http_server: str, workflow_cache: int | None = None) -> None:
        self.instance = Path(tempfile.mkdtemp(prefix="bdd-bench-"))
        env = dict(os.environ, BDD_INSTANCE_DIR=str(self.instance))
        if workflow_cache is not None:
            env["BDD_WORKFLOW_CACHE"] = str(workflow_cache)
        bdd = str(ROOT / ".venv" / "bin" / "bdd") if (ROOT / ".venv" / "bin" / "bdd").exists() else "bdd"
        for command in (["init"], ["load-demo"], ["deploy", str(ROOT / "processes")]):
            subprocess.run([bdd, *command], env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        self.server = subprocess.Popen([bdd, "serve", "--port", str(port), "--threads", "4", "--server", http_server],
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        self.client = Client(port)
        self.client.login("gaohongxia")
        self.last_response: dict = {}

    def round(self, cases: int) -> tuple[float, float]:
        """Completions per second, and server CPU ms per completion, over ``cases`` new cases."""
        client = self.client
        first = [client.call("POST", "/api/v1/cases", {"process": "assist", "data": START}, 201)["tasks"][0]["id"]
                 for _ in range(cases)]

        def work() -> None:
            for task_id in first:
                for _name, data in STEPS:
                    self.last_response = client.call("POST", f"/api/v1/tasks/{task_id}/complete", {"data": data})
                    following = self.last_response["next_tasks"]
                    task_id = following[0]["id"] if following else None

        return measured(self.server, cases * len(STEPS), work)

    def close(self) -> None:
        stop(self.server)
        shutil.rmtree(self.instance, ignore_errors=True)


def floor_app():
    """The web stack alone: a Flask app like ours, with a route that reads the bearer header and the
    JSON body and answers with a stored completion response (BDD_FLOOR_PAYLOAD names the file)."""
    from flask import Flask, request

    app = Flask("floor")
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    payload = json.loads(Path(os.environ["BDD_FLOOR_PAYLOAD"]).read_text())

    @app.post("/api/v1/tasks/<task_id>/complete")
    def complete(task_id: str):
        if not request.headers.get("Authorization", "").startswith("Bearer ") or request.get_json() is None:
            return {"error": "bad request"}, 400
        return payload

    return app


def serve_floor(port: int, server: str) -> None:
    """``floor_app`` behind the server `bdd serve` uses, configured as it configures it."""
    if server == "granian":
        from bdd_workflow.serving import granian

        granian("task_cycle:floor_app", "127.0.0.1", port, 4, working_dir=Path(__file__).resolve().parent).serve()
    else:
        from waitress import serve

        serve(floor_app(), host="127.0.0.1", port=port, threads=4, _quiet=True)


class FloorServer:
    """``serve_floor`` in a process of its own, answering with a stored completion response."""

    def __init__(self, payload: dict, http_server: str) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(payload, handle, ensure_ascii=False)
        self.payload_file = handle.name
        port = free_port()
        self.server = subprocess.Popen([sys.executable, __file__, "--serve-floor", str(port), http_server],
                                       env=dict(os.environ, BDD_FLOOR_PAYLOAD=handle.name),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        self.client = Client(port)
        self.client.authorize("floor")

    def round(self, requests: int) -> tuple[float, float]:
        """Requests per second and server CPU ms per request."""
        def work() -> None:
            for n in range(requests):
                self.client.call("POST", f"/api/v1/tasks/{n}/complete", {"data": STEPS[n % len(STEPS)][1]})

        return measured(self.server, requests, work)

    def close(self) -> None:
        stop(self.server)
        os.unlink(self.payload_file)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-floor":
        serve_floor(int(sys.argv[2]), sys.argv[3])
        return
    from bdd_workflow.serving import default_server
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300, help="assist cases per round; each completes 4 tasks")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported (the machine is shared)")
    parser.add_argument("--server", choices=("granian", "waitress"), default=default_server(),
                        help="the HTTP server of `bdd serve` (default: as `bdd serve` chooses)")
    parser.add_argument("--workflow-cache", type=int, default=None, metavar="N",
                        help="the server's BDD_WORKFLOW_CACHE (default: its own default); 0 reads every "
                             "step's workflow from the database, as the raw cycle deserializes it")
    args = parser.parse_args()
    raw_side, stock_side, api_side = RawCycle(), StockCycle(), ApiServer(args.server, args.workflow_cache)
    floor_side = None
    raw_rates, stock_rates, api_rates, api_cpu, floor_rates, floor_cpu = [], [], [], [], [], []
    try:
        # Warm both sides up, and take a real completion response for the floor to answer with.
        raw_side.round(max(1, args.cases // 10))
        stock_side.round(max(1, args.cases // 10))
        api_side.round(max(1, args.cases // 10))
        floor_side = FloorServer(api_side.last_response, args.server)
        # Side by side, round after round: a shared machine's speed drifts by a quarter over a
        # minute. Each API round lies between two raw rounds and is compared with their mean, so a
        # drift during the round weighs on both sides of its ratio alike.
        raw_rates.append(raw_side.round(args.cases))
        for _ in range(args.rounds):
            rate, cpu = api_side.round(args.cases)
            api_rates.append(rate)
            api_cpu.append(cpu)
            rate, cpu = floor_side.round(args.cases * len(STEPS))
            floor_rates.append(rate)
            floor_cpu.append(cpu)
            stock_rates.append(stock_side.round(args.cases))
            raw_rates.append(raw_side.round(args.cases))
    finally:
        api_side.close()
        if floor_side is not None:
            floor_side.close()
    raw, api, floor = statistics.median(raw_rates), statistics.median(api_rates), statistics.median(floor_rates)
    # Mean time per raw completion before and after each API round (times add; rates do not).
    raw_around = [2 / (1 / before + 1 / after) for before, after in zip(raw_rates, raw_rates[1:])]
    ratios = [a / r for a, r in zip(api_rates, raw_around)]
    cache = "" if args.workflow_cache is None else f" (BDD_WORKFLOW_CACHE={args.workflow_cache})"
    print(f"server: bdd serve --server {args.server}{cache}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"median of {args.rounds} rounds of {args.cases * len(STEPS)} completions")
    print(f"raw SpiffWorkflow cycle: {raw:8.1f} task completions/s ({1000 / raw:.2f} ms each; "
          f"rounds {', '.join(f'{r:.0f}' for r in raw_rates)})")
    stock = statistics.median(stock_rates)
    print(f"for scale, SpiffWorkflow as shipped (its serializer, spec in every state; not in the ratio): "
          f"{stock:.1f} /s ({1000 / stock:.2f} ms each); the API's median against it: {api / stock:.2f}")
    print(f"through the API:         {api:8.1f} task completions/s ({1000 / api:.2f} ms each; "
          f"rounds {', '.join(f'{r:.0f}' for r in api_rates)})")
    print(f"server CPU per completion: {statistics.median(api_cpu):.2f} ms (median; rounds "
          f"{', '.join(f'{c:.2f}' for c in api_cpu)})")
    print(f"web stack alone:         {floor:8.1f} requests/s ({1000 / floor:.2f} ms each, server CPU "
          f"{statistics.median(floor_cpu):.2f} ms): {args.server} + Flask + this client, a route that only reads the "
          f"body and returns a stored completion response")
    print(f"ratio API / raw:         {statistics.median(ratios):8.2f}  (median of each round's ratio: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}, each against the raw rounds around it; targets: >= 300/s and >= 0.25)")
    print(f"per completion: web stack {1000 / floor:.2f} ms + engine {1000 / raw:.2f} ms + the rest "
          f"(auth, validation, database, derived rows, commit) {1000 / api - 1000 / floor - 1000 / raw:.2f} ms")


if __name__ == "__main__":
    main()
