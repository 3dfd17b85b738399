"""Fixtures for the security regression tests: the Flask app over the demo county (tests/conftest.py's
``system``), clients at chosen client addresses, and logging in through the API and the login form."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest


# The test modules import securityhelpers.py beside this file, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def client_at(app) -> Callable:
    """``client_at("10.0.0.7")``: a test client whose requests come from that address."""

    def make(address: str = "127.0.0.1", of=None):
        client = (of or app).test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    return make


@pytest.fixture
def client(client_at):
    return client_at()
