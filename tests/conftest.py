"""Fixtures shared by every level: settings, a real database (SQLite, and PostgreSQL when
BDD_TEST_DATABASE_URL is set), the demo county deployed, and a desk to drive cases."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bdd_workflow.config import PROJECT_ROOT, Settings
from bdd_workflow.db.migrate import upgrade
from bdd_workflow.db.models import Base, HumanTask, OrgUnit, Staff
from bdd_workflow.services import attachments, definitions, forms_admin, org, tasks
from bdd_workflow.services.cases import get_case, start_case
from bdd_workflow.services.identity import SYSTEM, Actor, actor_of
from bdd_workflow.system import System

PASSWORD = "demo1234"
# A 1x1 PNG: what a drawn signature is stored as.
SIGNATURE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200ff9a5d6d0a0000000049454e44ae426082")
POSTGRES_URL = os.environ.get("BDD_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
SHARED = PROJECT_ROOT.parent / "shared"


def make_settings(instance: Path, database_url: str | None = None) -> Settings:
    return Settings(
        instance_dir=instance, database_url=database_url or f"sqlite:///{instance / 'bdd.sqlite3'}",
        secret_key="test-secret", processes_dir=PROJECT_ROOT / "processes", forms_dir=PROJECT_ROOT / "forms",
        requirements_file=PROJECT_ROOT / "spec" / "REQUIREMENTS.md",
    )


def populate(system: System) -> None:
    upgrade(system.db)  # the same migrations a county's installation runs
    org.load_demo(system, PASSWORD, SYSTEM)
    definitions.deploy_directory(system, SYSTEM, system.settings.processes_dir)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """The demo county deployed once; each test gets its own copy of the file."""
    instance = tmp_path_factory.mktemp("template")
    system = System(make_settings(instance))
    populate(system)
    with system.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    system.db.dispose()
    return instance / "bdd.sqlite3"


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory):
    """PostgreSQL for this test run: a database of its own (named after BDD_TEST_DATABASE_URL's and
    this process, so runs side by side do not meet), migrated and loaded with the demo county once.
    Before each test every table is put back to that state: rows deleted, the loaded rows inserted
    again, sequences reset (tens of milliseconds, against a second for migrating and loading)."""
    from sqlalchemy import create_engine, delete, insert
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    name = f"{url.database}_bdd{os.getpid()}"
    own_url = url.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    built = System(make_settings(tmp_path_factory.mktemp("pg-template"), own_url))
    populate(built)
    built.db.dispose()

    engine = create_engine(own_url)
    tables = Base.metadata.sorted_tables
    with engine.connect() as conn:
        rows = {table: [dict(r._mapping) for r in conn.execute(table.select())] for table in tables}
        sequences = conn.execute(text(
            "SELECT schemaname || '.' || sequencename, COALESCE(last_value, 1), last_value IS NOT NULL "
            "FROM pg_sequences WHERE schemaname = 'public'")).all()

    def fresh() -> str:
        with engine.begin() as conn:
            for table in reversed(tables):
                conn.execute(delete(table))
            for table in tables:
                if rows[table]:
                    conn.execute(insert(table), rows[table])
            for sequence, value, called in sequences:
                conn.execute(text("SELECT setval(CAST(:s AS regclass), :v, :c)"), {"s": sequence, "v": value, "c": called})
        return own_url

    yield fresh
    engine.dispose()
    drop()
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def system(request, tmp_path, sqlite_template) -> System:
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "bdd.sqlite3")
        built = System(make_settings(tmp_path))
    else:
        built = System(make_settings(tmp_path, request.getfixturevalue("postgres_template")()))
    yield built
    built.db.dispose()


@pytest.fixture
def app(system):
    """The Flask application over ``system``; errors go through the app's own handlers, as in production, and
    CSRF stays on (tests/web, tests/web_pages and tests/security use it)."""
    from bdd_workflow.app import create_app

    app = create_app(system=system)
    app.config.update(TESTING=False)
    return app


@pytest.fixture
def empty_system(tmp_path) -> System:
    """A system with tables but no units, staff or processes (SQLite)."""
    built = System(make_settings(tmp_path))
    upgrade(built.db)
    yield built
    built.db.dispose()


class Desk:
    """Drives cases through the services as the right staff member for each task would."""

    SIGNATURE_PNG = SIGNATURE_PNG

    def __init__(self, system: System) -> None:
        self.system = system

    def actor(self, username: str) -> Actor:
        with self.system.db.unit_of_work(write=False) as session:
            staff = session.scalars(select(Staff).where(Staff.username == username)).one()
            return actor_of(staff)

    def staff_for(self, role: str, unit: str | None) -> Actor:
        """A staff member of ``role`` in ``unit``, or the nearest unit above it."""
        with self.system.db.unit_of_work(write=False) as session:
            code = unit
            while True:
                query = select(Staff).where(Staff.role == role, Staff.active).order_by(Staff.id)
                if code:
                    query = query.join(OrgUnit, Staff.unit_id == OrgUnit.id).where(OrgUnit.code == code)
                staff = session.scalars(query).first()
                if staff is not None:
                    return actor_of(staff)
                parent = session.scalars(select(OrgUnit).where(OrgUnit.code == code)).first() if code else None
                if parent is None or parent.parent is None:
                    raise LookupError(f"no {role} at or above {unit}")
                code = parent.parent.code

    def start(self, process: str, by: str, **data: Any) -> dict[str, Any]:
        base = {"applicant_name": "王芳", "applicant_phone": "13812345678", "applicant_type": "personal",
                "channel": "walk_in"}
        return start_case(self.system, self.actor(by), process, {**base, **data})

    def ready(self, case_id: int) -> list[HumanTask]:
        with self.system.db.unit_of_work(write=False) as session:
            return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "ready")
                                        .order_by(HumanTask.created_at, HumanTask.name)))

    def ready_names(self, case_id: int) -> list[str]:
        return sorted(t.name for t in self.ready(case_id))

    def task(self, case_id: int, name: str) -> HumanTask:
        matches = [t for t in self.ready(case_id) if t.name == name]
        assert matches, f"{name} is not ready; ready: {self.ready_names(case_id)}"
        return matches[0]

    def do(self, case_id: int, name: str, data: dict[str, Any] | None = None, by: str | None = None,
           sign: bool = True) -> dict[str, Any]:
        """Complete the ready task ``name`` as a fitting staff member; forms that need the applicant's
        signature (x-signature) get one drawn first unless ``sign`` is False."""
        row = self.task(case_id, name)
        actor = self.actor(by) if by else self.staff_for(row.role, row.unit_code)
        if sign and row.form and self.system.forms.get(row.form).schema.get("x-signature"):
            self.sign(case_id, row.id, actor)
        return tasks.complete_task(self.system, actor, row.id, data or {})

    def sign(self, case_id: int, task_id: str, actor: Actor) -> None:
        attachments.add(self.system, actor, case_id, "signature", SIGNATURE_PNG, "签名.png", "image/png", task_id=task_id)

    def add_field(self, form_name: str, field: str, prop: dict[str, Any], required: bool = False) -> None:
        """Save a new version of a form with one more field, as an administrator does in the forms editor."""
        form = self.system.forms.get(form_name)
        schema, ui = copy.deepcopy(form.schema), copy.deepcopy(form.ui)
        schema["properties"][field] = prop
        if required:
            schema.setdefault("required", []).append(field)
        if "ui:order" in ui:
            ui["ui:order"].append(field)
        forms_admin.save_form(self.system, self.actor("chenguodong"), form_name, form.title, json.dumps(schema),
                              json.dumps(ui), base_version=form.version)

    def case(self, case_id: int) -> dict[str, Any]:
        return get_case(self.system, self.actor("zhangwei"), case_id)

    def linked(self, case_id: int, relation: str) -> dict[str, Any]:
        links = [c for c in self.case(case_id)["linked_cases"] if c["relation"] == relation and c["direction"] == "to"]
        assert len(links) == 1, f"expected one {relation} case, got {links}"
        return self.case(links[0]["id"])


@pytest.fixture
def desk(system) -> Desk:
    return Desk(system)


@pytest.fixture
def shared_dir() -> Path:
    return SHARED


def _unused(_: Any) -> None:  # keep Base imported for tests that inspect metadata
    return None


_unused(Base)


@pytest.fixture(scope="session")
def migration_variants():
    """The changed copies of assist.bpmn that tests/processes/test_migration.py deploys as version 2
    (its module, loaded by path: test folders are not packages)."""
    import importlib.util

    path = Path(__file__).resolve().parent / "processes" / "test_migration.py"
    spec = importlib.util.spec_from_file_location("migration_variants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
