"""The `bdd` console script: set up, deploy, check and serve."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .config import ConfigurationError, Settings, development_url
from .errors import DomainError
from .system import System, create_system

DEMO_PASSWORD = "demo1234"


def _system() -> System:
    return create_system(Settings.from_env())


def _require_schema(system: System) -> None:
    """Long-running commands refuse to start on a database `bdd init` has not brought up to date,
    rather than logging a failure every second."""
    from .db.migrate import current, head

    if current(system.db) != head():
        _fail("数据库尚未初始化或结构版本较旧：请先运行 bdd init（首次使用请运行 ./scripts/run，它会一并部署流程、载入演示数据）。"
              f"（{system.db.engine.url.render_as_string(hide_password=True)}）")


def _fail(message: str) -> None:
    click.echo(f"错误: {message}", err=True)
    sys.exit(1)


class _Commands(click.Group):
    """Every command: a setting or an instance folder that stops start-up is one line saying what to change,
    never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            _fail(str(exc))


@click.group(cls=_Commands)
def main() -> None:
    """成安县政务服务帮办代办上门办 workflow system."""


@main.command()
def init() -> None:
    """Create or upgrade the database schema (Alembic migrations; safe to run again)."""
    from .db.migrate import NotOurDatabase, upgrade

    system = _system()
    try:
        revision = upgrade(system.db)
    except NotOurDatabase as exc:
        _fail(str(exc))
    click.echo(f"数据库已就绪（结构版本 {revision}）: {system.db.engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def deploy(path: Path) -> None:
    """Deploy a BPMN/DMN file, or every one in a folder, as new versions."""
    from .services.definitions import deploy as deploy_one
    from .services.definitions import deploy_directory
    from .services.identity import SYSTEM

    system = _system()
    try:
        results = deploy_directory(system, SYSTEM, path) if path.is_dir() else [
            {"file": path.name, **deploy_one(system, SYSTEM, path.read_bytes(), path.name)}]
    except DomainError as exc:
        for problem in getattr(exc, "problems", None) or [{"message": exc.message}]:
            click.echo(f"错误: {problem['message']}", err=True)
        sys.exit(1)
    for result in results:
        items = [(p["process"], p) for p in result.get("processes", [])]
        items += [(f"决策 {d['decision']}", d) for d in result.get("decisions", [])]
        for what, item in items:
            if item.get("kept"):  # an administrator's newer version: the folder's file is not put over it
                click.echo(f"保留 {what} v{item['version']}（{item['deployed_by']} 部署的版本）：{result['file']} 与它不同，"
                           f"没有部署；要用文件的版本，请运行 bdd deploy {path / result['file']}", err=True)
            else:
                click.echo(f"{'未变化' if item['unchanged'] else '已部署'} {what} v{item['version']} ({result['file']})")


@main.command("load-demo")
@click.option("--password", default=DEMO_PASSWORD, show_default=True, help="password of every demo account")
def load_demo(password: str) -> None:
    """Load the demo county: units, staff in every role, the matter catalog."""
    from .services.identity import SYSTEM
    from .services.org import load_demo as load

    system = _system()
    try:
        added = load(system, password, SYSTEM)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"演示数据: 新增单位 {added['units']} 个、工作人员 {added['staff']} 人、事项 {added['matters']} 项。")


@main.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="consultant, assistant, proxy_agent, chief_officer, supervisor, administrator")
@click.option("--unit", "unit_code", default=None, help="unit code (not needed for supervisor and administrator)")
@click.option("--name", default=None, help="display name (Chinese)")
def create_user(username: str, role: str, unit_code: str | None, name: str | None) -> None:
    """Register a staff member; the password is read from standard input."""
    from .services.identity import SYSTEM
    from .services.org import create_user as create

    password = (click.prompt("密码", hide_input=True, confirmation_prompt=True)
                if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n"))
    try:
        user = create(_system(), SYSTEM, username, password, role, unit_code, name)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"已登记 {user['username']}（{user['role']}，{user['unit'] or '无单位'}）")


@main.command()
def check() -> None:
    """Check every diagram and form: parses, runs here, forms exist, requirement IDs exist."""
    from .services.modeler import check_file

    system = _system()
    problems: list[str] = []
    for name, message in system.forms.problems.items():
        problems.append(f"forms/{name}.json: {message}")
    if system.requirements is None:
        problems.append(f"找不到需求文件 {system.settings.requirements_file}（BDD_REQUIREMENTS_FILE）。")
    processes_dir = system.settings.processes_dir
    decisions = [p.read_bytes() for p in sorted(processes_dir.glob("*.dmn"))]
    checked = 0
    for path in sorted(processes_dir.glob("*.dmn")) + sorted(processes_dir.glob("*.bpmn")):
        # The rules the modeler's 校验 and every deploy apply, so what passes here deploys.
        found, result = check_file(system, path.read_bytes(), path.name, lambda: decisions)
        for warning in (p for p in found if p["severity"] != "error"):
            click.echo(f"提醒 {path.name}: {warning['message']}", err=True)
        errors = [p for p in found if p["severity"] == "error"]
        problems.extend(f"{path.name}: {p['message']}" for p in errors)
        if errors or result is None:
            continue
        checked += 1
        for process in result.processes:
            start = f"发起表单 {process.start_form}，" if process.start_form else ""
            click.echo(f"通过 {path.name}: {process.process_id}（{start}{len(process.user_tasks)} 个用户任务，"
                       f"引用 {', '.join(process.requirement_ids)}）")
        for decision in result.decisions:
            click.echo(f"通过 {path.name}: 决策 {decision.decision_id}")
    for warning in calendar_warnings(system):
        click.echo(f"提醒 {warning}", err=True)
    for problem in problems:
        click.echo(f"问题 {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"全部通过: {checked} 个文件, {len(system.forms.forms)} 个表单。")


def calendar_warnings(system: System) -> list[str]:
    """Deadlines past the last year whose holidays are known are provisional (weekends only)."""
    from .services.timers import calendar_status

    status = calendar_status(system)
    last = status["last_known_year"]
    warnings = []
    if not status["next_year_known"]:
        warnings.append(
            f"节假日日历只到 {last} 年：{last + 1} 年的期限暂按周末计算并标为“暂定”。国务院公布 {last + 1} 年安排后，"
            f"请在 {system.settings.instance_dir / 'calendar_overrides.json'} 中加入 {{\"years\": [{last + 1}], "
            "\"holidays\": [...], \"workdays\": [...]}（或升级 chinesecalendar）。")
    if status["provisional_cases"]:
        warnings.append(f"有 {status['provisional_cases']} 个办件、{status['provisional_tasks']} 个待办的期限是暂定的。")
    return warnings


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="threads running requests")
@click.option("--server", type=click.Choice(["granian", "waitress"]), default=None,
              help="HTTP server (default BDD_SERVER, else granian when installed)")
def serve(host: str, port: int, threads: int, server: str | None) -> None:
    """Serve the web application and the API (granian, or waitress; see bdd_workflow/serving.py)."""
    from .serving import default_server, serve as run

    from .views.throttle import ThrottleMisconfigured, check_settings

    system = _system()
    _require_schema(system)
    try:
        check_settings(system.settings)
    except ThrottleMisconfigured as exc:
        raise click.ClickException(str(exc)) from None
    system.db.dispose()  # the server builds its own in its worker process
    if not os.environ.get("BDD_PUBLIC_URL"):
        # Links and QR codes point at this server as started (its workers read the variable), never at
        # the Host header a client sends.
        os.environ["BDD_HOST"], os.environ["BDD_PORT"] = host, str(port)
        os.environ["BDD_PUBLIC_URL"] = development_url()
        click.echo(f"未设置 BDD_PUBLIC_URL：二维码和公开链接指向 {os.environ['BDD_PUBLIC_URL']}（仅适合开发）；"
                   "正式部署请设为群众访问的网址。")
    run(host, port, threads, server or default_server(), click.echo)


@main.command()
@click.option("--poll", "poll_seconds", default=None, type=float, help="seconds between polls (default BDD_SCHEDULER_POLL_SECONDS, 1)")
def scheduler(poll_seconds: float | None) -> None:
    """Run the timer scheduler as its own process (several may run: none fires a timer twice)."""
    import logging
    import signal

    from .scheduler import TimerScheduler

    system = _system()
    _require_schema(system)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    system.db.start_background_checkpoints(system.settings.sqlite_checkpoint_seconds)
    runner = TimerScheduler(system, poll_seconds=poll_seconds or system.settings.scheduler_poll_seconds, blocking=True)

    def stop(*_args) -> None:
        runner.scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"计时器调度已启动（每 {runner.poll_seconds:g} 秒检查一次，到期即触发）。")
    runner.start()


@main.command("fire-timers")
def fire_timers() -> None:
    """Fire every timer that is due now (the scheduler does this on its own)."""
    from .services.timers import fire_due_timers

    click.echo(f"已触发 {fire_due_timers(_system())} 个计时器。")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Write a consistent backup (database, uploads, instance key) to PATH while the server runs."""
    from .backup import BackupError, take

    try:
        report = take(_system(), path)
    except BackupError as exc:
        _fail(str(exc))
    m = report.manifest
    click.echo(f"备份完成：{report.path}（{m['database']}，结构版本 {m['schema_revision']}，办件 {m['cases']} 件，"
               f"附件 {m['attachments']} 个，文件 {m['files']} 个，{'含' if m['secret_key_included'] else '不含'}密钥）。")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def restore(path: Path) -> None:
    """Bring a backup back into an empty database and instance folder (a fresh machine)."""
    from .backup import BackupError
    from .backup import restore as restore_backup

    try:
        report = restore_backup(_system(), path)
    except BackupError as exc:
        _fail(str(exc))
    m = report.manifest
    click.echo(f"恢复完成：{m['taken_at']} 的备份，办件 {m['cases']} 件，附件 {m['attachments']} 个。")
    if report.dropped_files:
        click.echo(f"备份后才登记的 {report.dropped_files} 个文件没有对应记录，未恢复。")
    for note in report.notes:
        click.echo(f"注意：{note}")


@main.command("show-config")
def show_config() -> None:
    """Print the effective settings (secrets hidden)."""
    settings = Settings.from_env()
    values = {k: str(v) for k, v in vars(settings).items() if k != "secret_key"}
    if "@" in values["ratelimit_storage_uri"]:  # redis://user:password@host: the password stays hidden
        scheme, _, rest = values["ratelimit_storage_uri"].partition("://")
        values["ratelimit_storage_uri"] = f"{scheme}://***@{rest.rpartition('@')[2]}"
    click.echo(json.dumps(values, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
