"""Alembic environment for both engines.

The URL is, in order: a connection handed in through `config.attributes["connection"]`,
`sqlalchemy.url` set programmatically (db.engine.init_db), or HIGHLIGHTS_DATABASE_URL
through highlights.settings (the `alembic` command line).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from db.engine import make_engine
from db.migrate import AUTOGENERATE_OPTIONS
from db.models import Base
from highlights.settings import load_settings

config = context.config

# The command line gets alembic.ini's logging; programmatic callers (init_db inside the
# app or a worker) keep their own logging untouched.
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().database_url


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=target_metadata, **AUTOGENERATE_OPTIONS, **kwargs)


def run_migrations_offline() -> None:
    url = _url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # A batch migration on SQLite copies a table, drops the original and renames the
        # copy; with foreign keys on, that DROP would cascade-delete every child row.
        # The pragma only takes effect outside a transaction.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection=connection, render_as_batch=is_sqlite)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if is_sqlite:
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
