"""A session's namespace is the migrated default one's shape (issue 18 item 7), on SQLite and PostgreSQL.

Sessions are made from the tables' metadata, not by running the migrations (docs/sessions.md: it is several times
faster); this is the check that the two give the same tables, columns, types, keys, indexes and sequences, and
that `pactmock db upgrade` migrates an existing session's namespace along with the default one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, inspect, pool, text
from sqlalchemy.engine import make_url

from app.settings import Settings
from app.settings import database_url as with_driver
from app.store import migrate
from app.store.sessions import schema_of
from app.store.unit_of_work import SqlStore


def _namespace(url: str, session: str | None) -> tuple[Engine, str | None]:
    """An engine and schema name that reflect session `session` (None: the default namespace)."""
    if make_url(url).get_backend_name() == "sqlite":
        if session is None:
            return create_engine(url, poolclass=pool.NullPool), None
        folder = migrate.session_folder(make_url(url).database)
        assert folder is not None
        return create_engine(f"sqlite:///{folder / (session + migrate.SESSION_FILE_SUFFIX)}"), None
    return create_engine(url, poolclass=pool.NullPool), "public" if session is None else schema_of(session)


def shape(url: str, session: str | None) -> dict[str, Any]:
    """Every table's columns, keys and indexes, the sequences and the stamped revision, with schema names left out."""
    engine, schema = _namespace(url, session)
    try:
        found = inspect(engine)

        def plain(value: Any) -> Any:
            # A default naming a sequence names it with its schema when reflected by schema: left out.
            if isinstance(value, str) and schema:
                return value.replace(f'"{schema}".', "").replace(f"{schema}.", "")
            return value

        tables = {}
        for table in sorted(found.get_table_names(schema=schema)):
            tables[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], plain(c.get("default")))
                    for c in found.get_columns(table, schema=schema)
                ],
                "primary key": found.get_pk_constraint(table, schema=schema),
                "foreign keys": sorted(
                    (fk["name"], fk["constrained_columns"], fk["referred_table"], fk["referred_columns"], fk["options"])
                    for fk in found.get_foreign_keys(table, schema=schema)
                ),
                "indexes": sorted(
                    (i["name"], i["column_names"], i["unique"]) for i in found.get_indexes(table, schema=schema)
                ),
                "unique": sorted(
                    (u["name"], u["column_names"]) for u in found.get_unique_constraints(table, schema=schema)
                ),
            }
        sequences = sorted(found.get_sequence_names(schema=schema)) if engine.dialect.name == "postgresql" else []
        prefix = f'"{schema}".' if schema else ""
        with engine.connect() as connection:
            stamped = connection.execute(text(f"SELECT version_num FROM {prefix}alembic_version")).scalars().all()
            counters = connection.execute(text(f"SELECT name, next_value FROM {prefix}id_counters ORDER BY name")).all()
        return {"tables": tables, "sequences": sequences, "stamped": stamped, "counters": [tuple(c) for c in counters]}
    finally:
        engine.dispose()


def test_a_new_session_has_the_migrated_default_namespaces_shape(database_url: str) -> None:
    database_url = with_driver(database_url)
    migrate.upgrade(database_url)
    store = SqlStore.connect(Settings(database_url=database_url))
    store.sessions.ensure("shape-1")
    made, migrated = shape(database_url, "shape-1"), shape(database_url, None)
    assert made == migrated
    assert made["stamped"] == [migrate.head_revision()]
    assert made["counters"] == [("jobs", 123), ("runs", 978)]
    assert {"jobs", "runs", "uploads", "items", "item_counters", "mock_settings"} <= set(made["tables"])


def test_db_upgrade_migrates_every_sessions_namespace(database_url: str) -> None:
    database_url = with_driver(database_url)
    migrate.upgrade(database_url)
    store = SqlStore.connect(Settings(database_url=database_url))
    store.sessions.ensure("older-1")
    engine, schema = _namespace(database_url, "older-1")
    prefix = f'"{schema}".' if schema else ""
    # The session as a mock one migration older would have made it: no mock_settings, stamped 0003.
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {prefix}mock_settings"))
        connection.execute(text(f"UPDATE {prefix}alembic_version SET version_num = '0003'"))
    engine.dispose()
    assert "mock_settings" not in shape(database_url, "older-1")["tables"]

    migrate.upgrade(database_url)

    assert shape(database_url, "older-1") == shape(database_url, None)
