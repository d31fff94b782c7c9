"""Alembic environment: the URL comes from the app's settings (DATABASE_URL), unless a caller set one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from app.settings import Settings
from app.store.tables import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)

# `pactmock db ...` and the tests pass the URL in (Settings.database_url, driver already chosen); plain
# `alembic ...` reads the environment through the same Settings.
url = config.attributes.get("database_url") or Settings.from_env().database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Batch mode lets ALTERs run on SQLite too (it copies the table).
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
