"""Persistence: SQLAlchemy models, engine and session scope, repositories, migrations."""
