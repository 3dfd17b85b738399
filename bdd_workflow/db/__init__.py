"""Persistence: SQLAlchemy 2.x models, the unit of work, and the queries services need."""
