"""Alembic migrations: how an existing database is brought up to the current models."""
