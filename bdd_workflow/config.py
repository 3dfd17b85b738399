"""Settings from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(ValueError):
    """A setting or the instance folder that stops start-up; the message says what to change (Chinese)."""


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _secret_key(instance_dir: Path) -> str:
    """Use BDD_SECRET_KEY, else one generated once and kept under instance/."""
    value = os.environ.get("BDD_SECRET_KEY")
    if value:
        return value
    key_file = instance_dir / "secret_key"
    try:
        instance_dir.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(
            f"实例目录 {instance_dir} 无法创建或写入（{exc.strerror or exc}）：数据库、附件和密钥都放在这里。"
            "请检查磁盘空间和目录权限，或用 BDD_INSTANCE_DIR 指向可写的目录。") from None


def development_url() -> str:
    """Where ``./scripts/run`` and ``bdd serve`` listen by default (BDD_HOST, BDD_PORT): the public links'
    base when BDD_PUBLIC_URL is not set. Fit for a development machine only; never the Host header."""
    host = os.environ.get("BDD_HOST") or "127.0.0.1"
    port = os.environ.get("BDD_PORT") or "5000"
    if host in ("0.0.0.0", "::", "[::]", "*"):  # listening everywhere: this machine is reachable here too
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def public_base_url(value: str) -> str:
    """BDD_PUBLIC_URL checked and without its trailing slash: http(s), a host, perhaps a port and a path
    prefix; no user, query or fragment."""
    text = value.strip()
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or "@" in parts.netloc
            or parts.query or parts.fragment or "?" in text or "#" in text or any(c.isspace() for c in text)
            or "\\" in text):
        raise ConfigurationError(f"BDD_PUBLIC_URL 应为对外的网址，如 https://zwfw.example.gov.cn 或 "
                         f"https://example.gov.cn/bdd（不带查询、片段或用户名），而不是 {value!r}。")
    return text.rstrip("/")


@dataclass
class Settings:
    """Every knob of the system; ``Settings.from_env()`` reads them, tests build them directly."""

    instance_dir: Path = field(default_factory=lambda: _path("BDD_INSTANCE_DIR", PROJECT_ROOT / "instance"))
    database_url: str = ""
    secret_key: str = ""
    processes_dir: Path = field(default_factory=lambda: _path("BDD_PROCESSES_DIR", PROJECT_ROOT / "processes"))
    forms_dir: Path = field(default_factory=lambda: _path("BDD_FORMS_DIR", PROJECT_ROOT / "forms"))
    requirements_file: Path = field(
        default_factory=lambda: _path("BDD_REQUIREMENTS_FILE", PROJECT_ROOT / "spec" / "REQUIREMENTS.md")
    )
    timezone: str = field(default_factory=lambda: os.environ.get("BDD_TIMEZONE", "Asia/Shanghai"))
    workday_end: str = field(default_factory=lambda: os.environ.get("BDD_WORKDAY_END", "17:30"))
    contact_sla: str = field(default_factory=lambda: os.environ.get("BDD_CONTACT_SLA", "PT30M"))
    complaint_days: int = field(default_factory=lambda: _int("BDD_COMPLAINT_DAYS", 5))
    rectification_days: int = field(default_factory=lambda: _int("BDD_RECTIFICATION_DAYS", 10))
    # 问题交办: working days the chief officer (or the centre office) has to deal with a problem a callback found.
    handover_days: int = field(default_factory=lambda: _int("BDD_HANDOVER_DAYS", 5))
    # R-6.4.2/3: how long a chief officer has to answer a problem staff report, urgent and ordinary.
    problem_urgent_sla: str = field(default_factory=lambda: os.environ.get("BDD_PROBLEM_URGENT_SLA", "PT2H"))
    problem_days: int = field(default_factory=lambda: _int("BDD_PROBLEM_DAYS", 1))
    # 高峰预警: a unit is alerted at this many open tasks per active staff member, or this many
    # overdue tasks; a unit's own values (org registry) take precedence.
    peak_load: int = field(default_factory=lambda: _int("BDD_PEAK_LOAD", 10))
    peak_overdue: int = field(default_factory=lambda: _int("BDD_PEAK_OVERDUE", 5))
    # R-4.c: a fired deadline whose task is still open escalates again, one level up, after this many
    # working days (sla("escalation_interval_days")); the diagrams' further boundary timers read it.
    escalation_interval_days: int = field(default_factory=lambda: max(1, _int("BDD_ESCALATION_INTERVAL_DAYS", 1)))
    # R-4.a: an onsite visit with no appointment is due this many working days after the application.
    onsite_visit_days: int = field(default_factory=lambda: max(0, _int("BDD_ONSITE_VISIT_DAYS", 2)))
    # A wait on the applicant (materials, the entrustment, the receipt, contact): a reminder for the staff
    # member after this many working days, and the case closed as 逾期未补正 after that many.
    applicant_reminder_days: int = field(default_factory=lambda: max(1, _int("BDD_APPLICANT_REMINDER_DAYS", 3)))
    applicant_closure_days: int = field(default_factory=lambda: max(1, _int("BDD_APPLICANT_CLOSURE_DAYS", 10)))
    token_ttl_seconds: int = field(default_factory=lambda: _int("BDD_TOKEN_TTL", 8 * 3600))
    # A browser session ends this long after the login whatever happens (one working day) ...
    session_max_seconds: int = field(default_factory=lambda: _int("BDD_SESSION_MAX_SECONDS", 9 * 3600))
    # ... and sooner when no page was asked for this long.
    session_idle_seconds: int = field(default_factory=lambda: _int("BDD_SESSION_IDLE_SECONDS", 2 * 3600))
    # Login throttling (Flask-Limiter's notation): every attempt from one client address, and failed
    # password checks of one account from any address; beyond them a 429 with Retry-After.
    login_rate_per_address: str = field(default_factory=lambda: os.environ.get("BDD_LOGIN_RATE_PER_ADDRESS", "20 per minute"))
    login_rate_per_account: str = field(default_factory=lambda: os.environ.get("BDD_LOGIN_RATE_PER_ACCOUNT", "10 per minute"))
    # Where the throttle counts: memory:// (each server process its own), or redis://host:6379 shared.
    ratelimit_storage_uri: str = field(default_factory=lambda: os.environ.get("BDD_RATELIMIT_STORAGE_URI", "memory://"))
    # Reverse proxies in front of the server whose X-Forwarded-For is trusted for the client address.
    proxy_hops: int = field(default_factory=lambda: _int("BDD_PROXY_HOPS", 0))
    # SQLite: the longest a write waits for another writer's lock before the request is a 503 (Retry-After).
    db_busy_seconds: float = field(default_factory=lambda: max(0.1, float(os.environ.get("BDD_DB_BUSY_SECONDS", "5"))))
    script_timeout_ms: int = field(default_factory=lambda: _int("BDD_SCRIPT_TIMEOUT_MS", 1000))
    # The most a diagram's script may grow the server process's memory before it is stopped.
    script_memory_mb: int = field(default_factory=lambda: max(8, _int("BDD_SCRIPT_MEMORY_MB", 64)))
    max_upload_bytes: int = field(default_factory=lambda: _int("BDD_MAX_UPLOAD_BYTES", 2 * 1024 * 1024))
    workflow_cache_size: int = field(default_factory=lambda: _int("BDD_WORKFLOW_CACHE", 256))
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("BDD_SECURE_COOKIES", "0") in ("1", "true", "yes", "on"))
    embedded_scheduler: bool = field(default_factory=lambda: os.environ.get("BDD_EMBEDDED_SCHEDULER", "1") not in ("0", "false", "no", "off"))
    scheduler_poll_seconds: float = field(default_factory=lambda: float(os.environ.get("BDD_SCHEDULER_POLL_SECONDS", "1")))
    # The address applicants reach the public pages at: printed links and QR codes are built from it, never
    # from the request's Host header (a client chooses that). Default: development_url().
    public_url: str = field(default_factory=lambda: os.environ.get("BDD_PUBLIC_URL", ""))
    # SQLite: seconds between background WAL checkpoints in `bdd serve` and `bdd scheduler` (0: let
    # commits checkpoint, SQLite's default).
    sqlite_checkpoint_seconds: float = field(default_factory=lambda: float(os.environ.get("BDD_SQLITE_CHECKPOINT_SECONDS", "0.5")))

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = os.environ.get("BDD_DATABASE_URL") or f"sqlite:///{self.instance_dir / 'bdd.sqlite3'}"
        if not self.secret_key:
            self.secret_key = _secret_key(self.instance_dir)
        self.public_url = public_base_url(self.public_url or development_url())

    @classmethod
    def from_env(cls) -> "Settings":
        return cls()

    def sla_values(self) -> dict[str, object]:
        """What ``sla(name)`` returns in a diagram's expression."""
        return {
            "contact": self.contact_sla,
            "complaint_days": self.complaint_days,
            "rectification_days": self.rectification_days,
            "handover_days": self.handover_days,
            "problem_urgent": self.problem_urgent_sla,
            "problem_days": self.problem_days,
            "escalation_interval_days": self.escalation_interval_days,
            "onsite_visit_days": self.onsite_visit_days,
            "applicant_reminder_days": self.applicant_reminder_days,
            "applicant_closure_days": self.applicant_closure_days,
        }
