"""Persistence: SQLAlchemy 2 async models, repositories (one module per aggregate) and Alembic migrations."""
