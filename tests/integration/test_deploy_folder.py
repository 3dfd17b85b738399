"""`bdd deploy processes` (run by ./scripts/run on every start) deploys what changed in the folder since it
last did, and leaves alone a process whose newest version an administrator deployed in the modeler:
restarting the server must not put the shipped file back over their work."""

from __future__ import annotations

import shutil

from click.testing import CliRunner
from sqlalchemy import select

from bdd_workflow.cli import main
from bdd_workflow.config import PROJECT_ROOT, Settings
from bdd_workflow.db.models import Staff
from bdd_workflow.services import definitions
from bdd_workflow.services.identity import actor_of
from bdd_workflow.system import System


def bdd(env: dict[str, str], *args: str):
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def versions(system: System) -> dict[str, int]:
    return {d["process"]: d["version"] for d in definitions.list_definitions(system)}


def test_a_restart_keeps_an_administrators_version_and_deploys_a_changed_file(tmp_path):
    folder = tmp_path / "processes"
    shutil.copytree(PROJECT_ROOT / "processes", folder)
    env = {"BDD_INSTANCE_DIR": str(tmp_path / "instance"), "BDD_DATABASE_URL": "", "BDD_PROCESSES_DIR": str(folder)}
    bdd(env, "init")
    bdd(env, "load-demo")
    bdd(env, "deploy", str(folder))
    system = System(Settings(instance_dir=tmp_path / "instance", processes_dir=folder))
    try:
        assert set(versions(system).values()) == {1}
        # An administrator changes assist in the modeler and deploys it: v2, theirs.
        with system.db.unit_of_work(write=False) as session:
            admin = actor_of(session.scalars(select(Staff).where(Staff.username == "chenguodong")).one())
        edited = (folder / "assist.bpmn").read_text(encoding="utf-8").replace("指导准备申报材料", "指导准备材料", 1)
        definitions.deploy(system, admin, edited.encode("utf-8"), "assist.bpmn")
        # The shipped onsite file changes (an upgrade): deployed by the next start, as v2.
        onsite = folder / "onsite.bpmn"
        onsite.write_text(onsite.read_text(encoding="utf-8").replace("上门受理并核对材料", "上门受理并核验材料", 1),
                          encoding="utf-8")

        again = bdd(env, "deploy", str(folder))
        assert "已部署 onsite v2 (onsite.bpmn)" in again.output
        assert "保留 assist v2（chenguodong 部署的版本）" in again.stderr
        assert versions(system) == {**{p: 1 for p in versions(system)}, "assist": 2, "onsite": 2}
        assert [d for d in definitions.list_definitions(system) if d["process"] == "assist"][0]["deployed_by"] == "chenguodong"

        # The same for the routing decision an administrator changed.
        dmn = (folder / "handling_unit_routing.dmn").read_text(encoding="utf-8")
        definitions.deploy(system, admin, dmn.replace("<decision ", "<!-- edited -->\n<decision ", 1).encode("utf-8"),
                           "handling_unit_routing.dmn")
        again = bdd(env, "deploy", str(folder))
        assert "保留 决策 handling_unit_routing v2（chenguodong 部署的版本）" in again.stderr

        # Asked for by name, the file is deployed over it: the administrator's choice to make.
        before = versions(system)["assist"]  # the decision's callers were redeployed with it
        bdd(env, "deploy", str(folder / "assist.bpmn"))
        assert versions(system)["assist"] == before + 1
    finally:
        system.db.dispose()
