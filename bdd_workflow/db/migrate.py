"""Bring a database to the current schema with Alembic (``bdd init``), from any earlier revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from .unit_of_work import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return config


class NotOurDatabase(RuntimeError):
    """The database has tables but no migration history: not one this system created."""


def upgrade(db: Database) -> str:
    """Upgrade to the newest revision (creating every table on an empty database); returns it."""
    config = alembic_config(db)
    with db.engine.begin() as connection:
        tables = set(inspect(connection).get_table_names())
        if tables and "alembic_version" not in tables:
            raise NotOurDatabase(
                f"数据库 {db.engine.url.render_as_string(hide_password=True)} 已有数据表但没有迁移记录"
                "（alembic_version），不是本系统创建的；请换一个空数据库，或设置 BDD_DATABASE_URL。")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head()


def known(revision: str) -> bool:
    """Is ``revision`` one of this code's migrations (a backup from a newer version is not)?"""
    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises its own errors for unknown ids
        return False


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
