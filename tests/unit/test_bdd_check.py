"""`bdd check` applies the rules the modeler's 校验 and every deploy apply: what it passes deploys,
what it refuses is named with its element, and warnings are printed without failing."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from bdd_workflow.cli import main
from bdd_workflow.config import PROJECT_ROOT


@pytest.fixture
def processes(tmp_path):
    target = tmp_path / "processes"
    shutil.copytree(PROJECT_ROOT / "processes", target)
    return target


def run_check(tmp_path, processes):
    env = {"BDD_PROCESSES_DIR": str(processes), "BDD_INSTANCE_DIR": str(tmp_path / "instance")}
    return CliRunner().invoke(main, ["check"], env=env)


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_diagrams_pass(tmp_path, processes):
    result = run_check(tmp_path, processes)
    assert result.exit_code == 0, result.stderr
    assert "全部通过" in result.stdout and "通过 assist.bpmn: assist" in result.stdout


def test_a_lane_that_is_no_role_fails_naming_its_tasks(tmp_path, processes):
    edit(processes / "assist.bpmn", '<bpmn:lane id="Lane_assistant" name="帮办员">', '<bpmn:lane id="Lane_assistant" name="门卫">')
    result = run_check(tmp_path, processes)
    assert result.exit_code == 1
    assert "问题 assist.bpmn:" in result.stderr and "门卫" in result.stderr and "guide_materials" in result.stderr


def test_an_element_citing_no_requirement_is_a_reminder_not_a_failure(tmp_path, processes):
    edit(processes / "assist.bpmn", "R-9.1.5 帮办服务结束", "帮办服务结束")
    result = run_check(tmp_path, processes)
    assert result.exit_code == 0, result.stderr
    assert "提醒 assist.bpmn:" in result.stderr and "assist_completed" in result.stderr
