"""Supervisors' views of a process as a whole: the heatmap (issue 5, item 4); migrating a suspended case to a newer version (item 7)."""

from __future__ import annotations

from flask import Blueprint

insight = Blueprint("insight", __name__)
