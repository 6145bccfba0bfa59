"""Engines, sessions and schema set-up for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from highlights.errors import HighlightsError
from highlights.settings import Settings, load_settings

# Several stages write at once (silence, transcription and layout run concurrently), so a
# SQLite writer waits this long for the lock instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


class DatabaseError(HighlightsError, RuntimeError):
    """The database cannot be reached or set up; the message says which and why."""


def describe_url(url: str) -> str:
    """The URL without its password, safe for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        # WAL lets readers (API, CLI progress) go on while a stage writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with connection checks and, on SQLite, FKs, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"database URL {url!r} is not valid: {exc}") from None
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 3600}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot create the folder {folder} for SQLite database {describe_url(url)}: {exc}"
                ) from None
        # Sessions are handed between threads by Prefect's task runners.
        options["connect_args"] = {
            "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
            "check_same_thread": False,
        }
    elif parsed.get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": 10}
    options.update(kwargs)
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot create an engine for {describe_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back if it raises.

    Objects stay readable after the block (`expire_on_commit=False`), so callers can
    return rows loaded inside it.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for the configured database (one pool per URL)."""
    url = (settings or load_settings()).database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_engines() -> None:
    """Close every cached engine's pool (at shutdown, or after forking a worker)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
