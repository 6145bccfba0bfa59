"""Shared fixtures: real PostgreSQL, real SQLite files, an S3-compatible server on loopback.

Plain fixtures for any test:
- `sqlite_url`, `postgres_url`: an EMPTY database (nothing migrated);
- `db_url`: an empty database migrated to head, parametrised over sqlite and postgresql
  (tests must not change its schema: on PostgreSQL it is shared and emptied after each test);
- `engine`: an engine on `db_url`, disposed afterwards;
- `s3_server` (session) and `s3_env` (env vars applied for the test, unique prefix);
- `storage`: a Storage parametrised over the local folder and S3 backends.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.engine import dispose_engines, make_engine
from db.migrate import init_db
from db.models import Base
from highlights.settings import load_settings
from highlights.storage import Storage, open_storage
from tests.services import (
    PostgresServer,
    S3Server,
    ServiceUnavailable,
    running_postgres,
    running_s3,
)


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole session (started on first use)."""
    try:
        with running_postgres() as server:
            yield server
    except ServiceUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture(scope="session")
def pg_shared_db(pg_server: PostgresServer) -> str:
    """One database migrated to head, emptied after every test that uses it.

    Emptying takes milliseconds where creating a database per test takes about a second.
    A test that changes the schema itself must use `postgres_url` instead.
    """
    name = pg_server.create_database()
    init_db(pg_server.url(name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "head.db"
    init_db(_sqlite(path))
    return path


@pytest.fixture
def postgres_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the shared server."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    dispose_engines()
    pg_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, empty SQLite file."""
    return _sqlite(tmp_path / "highlights.db")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated to head, on each engine in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "highlights.db"
        shutil.copyfile(template, path)
        yield _sqlite(path)
        dispose_engines()
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = request.getfixturevalue("pg_shared_db")
    yield server.url(name)
    dispose_engines()
    server.reset_database(name, [table.name for table in reversed(Base.metadata.sorted_tables)])


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Points HIGHLIGHTS_STORAGE_URL at the S3 server under a prefix unique to this test."""
    env = s3_server.env(prefix=f"t-{uuid.uuid4().hex[:12]}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return env


@pytest.fixture(params=["local", "s3"])
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Storage:
    """An object store built from settings the way the app builds it, on each backend."""
    if request.param == "s3":
        request.getfixturevalue("s3_env")
    else:
        monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "store"))
        monkeypatch.delenv("HIGHLIGHTS_S3_ENDPOINT_URL", raising=False)
    return open_storage(load_settings())


def pytest_unconfigure(config: pytest.Config) -> None:
    """Detach Prefect's console handlers before pytest closes its captured streams.

    Prefect stops its ephemeral API server from an atexit hook and logs that it did; by
    then the stream its handler holds is closed, which prints a spurious logging error.
    """
    import logging

    for name in ("prefect", *logging.root.manager.loggerDict):
        if not name.startswith("prefect"):
            continue
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if type(handler).__name__ == "PrefectConsoleHandler":
                logger.removeHandler(handler)


@pytest.fixture
def local_job_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded defaults in this test's folder (SQLite file, local store, scratch),
    with quick retries, set in the environment as a user of the CLI would."""
    monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
    monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.setenv("HIGHLIGHTS_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("HIGHLIGHTS_RETRY_DELAYS", "0.1")
    return tmp_path
