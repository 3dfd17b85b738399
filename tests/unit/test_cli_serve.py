"""`bdd serve` and `bdd scheduler` on a database `bdd init` has not prepared: one clear message and
exit 1, instead of a server that logs a failure every second."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bdd_workflow.cli import main


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["scheduler"]])
def test_a_long_running_command_refuses_an_uninitialised_database(tmp_path, command):
    result = CliRunner().invoke(main, command, env={"BDD_INSTANCE_DIR": str(tmp_path), "BDD_DATABASE_URL": ""})
    assert result.exit_code == 1
    assert "请先运行 bdd init" in result.output
