"""The forms editor: a form's JSON Schema and UI schema with a live preview (issue 5, item 8)."""

from __future__ import annotations

from flask import Blueprint

forms_admin = Blueprint("forms_admin", __name__, url_prefix="/admin/forms")
