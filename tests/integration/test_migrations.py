"""The schema a county's database gets from the migrations is the schema the code expects."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from bdd_workflow.db.migrate import NotOurDatabase, current, head, upgrade
from bdd_workflow.db.models import Base
from bdd_workflow.db.unit_of_work import Database


def test_migrations_produce_exactly_the_models(system):
    """A new model or column without its migration would break every existing installation."""
    assert current(system.db) == head()
    with system.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_upgrading_again_changes_nothing(system):
    assert upgrade(system.db) == head()
    assert current(system.db) == head()


def test_a_database_with_foreign_tables_is_refused_untouched(tmp_path):
    """bdd init on a database this system did not create says so and changes nothing."""
    db = Database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE other_app (id INTEGER PRIMARY KEY)"))
    with pytest.raises(NotOurDatabase):
        upgrade(db)
    with db.engine.connect() as connection:
        names = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert "case" not in names and "alembic_version" not in names
