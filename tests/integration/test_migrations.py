"""The schema a county's database gets from the migrations is the schema the code expects."""

from __future__ import annotations

from datetime import datetime, timezone

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


def test_0018_makes_each_service_case_s_earliest_rating_its_rating_of_record(system, desk):
    """R-7.2.1 一事一评, migration 0018: on an existing database the earliest rating of each service case becomes
    its rating of record; a rating an older version let through for a callback case stays off the record."""
    from alembic import command

    from bdd_workflow.db.migrate import alembic_config
    from bdd_workflow.services import evaluations

    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    for step, data in (("guide_materials", {"guidance": "请按告知单准备材料。", "materials_complete": True}),
                       ("accompany_submission", {"submitted": True, "approval_department": "成安县民政局",
                                                 "submission_date": "2025-10-10"}),
                       ("track_approval", {"tracking_notes": "已沟通。", "applicant_informed": True, "approval_result": "准予"}),
                       ("hand_over_results", {"handed_over_documents": ["审批决定书"], "all_handed_over": True})):
        desk.do(case["id"], step, data)
    evaluations.rate(system, case["number"], "", "satisfied", None, "window", "gaohongxia")
    callback = desk.linked(case["id"], "callback")
    config = alembic_config(system.db)
    with system.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
        # Ratings as an older version stored them: the case rated online an hour before the window, and its
        # callback's number rated online too.
        for case_id in (case["id"], callback["id"]):
            connection.execute(text(
                "INSERT INTO evaluation (case_id, source, satisfaction, bad, scores, comment, unit_code, recorded_by, at)"
                " SELECT :case_id, 'online', 'dissatisfied', :bad, scores, NULL, unit_code, 'applicant', at"
                " FROM evaluation WHERE source = 'window'"), {"case_id": case_id, "bad": True})
        connection.execute(text("UPDATE evaluation SET at = (SELECT at FROM evaluation WHERE source = 'window' LIMIT 1)"
                                " WHERE source = 'online'"))
        connection.execute(text("UPDATE evaluation SET at = :later WHERE source = 'window'"),
                           {"later": datetime(2030, 1, 1, tzinfo=timezone.utc)})
    assert upgrade(system.db) == head()
    with system.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT case_id, source, of_record FROM evaluation ORDER BY id")).all()
    assert [(r.case_id, r.source, bool(r.of_record)) for r in rows] == [
        (case["id"], "window", False), (case["id"], "online", True), (callback["id"], "online", False)]
