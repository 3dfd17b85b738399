from __future__ import annotations

import pytest

from bdd_workflow.forms import FormRegistry
from bdd_workflow.requirements import Requirements

from .support import FORMS, SPEC, make_parser, parse_processes


@pytest.fixture(scope="session")
def forms() -> FormRegistry:
    return FormRegistry(FORMS)


@pytest.fixture(scope="session")
def requirements() -> Requirements:
    loaded = Requirements.from_file(SPEC)
    assert loaded is not None, f"{SPEC} is missing"
    return loaded


@pytest.fixture(scope="session")
def parsed(forms, requirements):
    """Every process of processes/, deployed the way `bdd check` does (forms and requirement IDs checked)."""
    return parse_processes(make_parser(forms=forms, requirements=requirements))
