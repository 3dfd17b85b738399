"""Settings from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    instance_dir.mkdir(parents=True, exist_ok=True)
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


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
    # 高峰预警: a unit is alerted at this many open tasks per active staff member, or this many
    # overdue tasks; a unit's own values (org registry) take precedence.
    peak_load: int = field(default_factory=lambda: _int("BDD_PEAK_LOAD", 10))
    peak_overdue: int = field(default_factory=lambda: _int("BDD_PEAK_OVERDUE", 5))
    token_ttl_seconds: int = field(default_factory=lambda: _int("BDD_TOKEN_TTL", 8 * 3600))
    script_timeout_ms: int = field(default_factory=lambda: _int("BDD_SCRIPT_TIMEOUT_MS", 1000))
    max_upload_bytes: int = field(default_factory=lambda: _int("BDD_MAX_UPLOAD_BYTES", 2 * 1024 * 1024))
    workflow_cache_size: int = field(default_factory=lambda: _int("BDD_WORKFLOW_CACHE", 256))
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("BDD_SECURE_COOKIES", "0") in ("1", "true", "yes", "on"))
    embedded_scheduler: bool = field(default_factory=lambda: os.environ.get("BDD_EMBEDDED_SCHEDULER", "1") not in ("0", "false", "no", "off"))
    scheduler_poll_seconds: float = field(default_factory=lambda: float(os.environ.get("BDD_SCHEDULER_POLL_SECONDS", "1")))
    # SQLite: seconds between background WAL checkpoints in `bdd serve` and `bdd scheduler` (0: let
    # commits checkpoint, SQLite's default).
    sqlite_checkpoint_seconds: float = field(default_factory=lambda: float(os.environ.get("BDD_SQLITE_CHECKPOINT_SECONDS", "0.5")))

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = os.environ.get("BDD_DATABASE_URL") or f"sqlite:///{self.instance_dir / 'bdd.sqlite3'}"
        if not self.secret_key:
            self.secret_key = _secret_key(self.instance_dir)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls()

    def sla_values(self) -> dict[str, object]:
        """What ``sla(name)`` returns in a diagram's expression."""
        return {
            "contact": self.contact_sla,
            "complaint_days": self.complaint_days,
            "rectification_days": self.rectification_days,
        }
