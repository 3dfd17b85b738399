"""Catalog and staff registry: matters with their one-time notices, org units, staff with their history (issue 5, item 9)."""

from __future__ import annotations

from flask import Blueprint

registry = Blueprint("registry", __name__, url_prefix="/admin/registry")
