"""The modeler: edit, validate, save drafts and deploy diagrams; the versions of each process (issue 5, items 6, 7, 10)."""

from __future__ import annotations

from flask import Blueprint

modeler = Blueprint("modeler", __name__, url_prefix="/admin/processes")
