"""Persistence of the hall: SQLAlchemy 2 on SQLite (default) or PostgreSQL, migrated by Alembic."""

from hallserver.store.store import Store, migrate

__all__ = ["Store", "migrate"]
