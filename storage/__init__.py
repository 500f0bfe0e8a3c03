"""Persistence for participants and their intake profiles (SQLAlchemy 2.x, Alembic migrations)."""
