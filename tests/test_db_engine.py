"""Engines and sessions: SQLite connection settings, the cached engine, commit/rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from db.engine import DatabaseError, dispose_engines, get_engine, make_engine, session_scope
from db.models import Job
from highlights.settings import load_settings
from tests.services import add_sample_job


def test_sqlite_connections_enforce_foreign_keys_with_wal_and_a_busy_timeout(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'folder' / 'h.db'}")
    try:
        for _ in range(2):  # every pooled connection, not just the first
            with engine.connect() as connection:
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert engine.pool._pre_ping  # noqa: SLF001 - the seed asks for pre-ping
        assert engine.pool._recycle == 3600  # noqa: SLF001
    finally:
        engine.dispose()
    assert (tmp_path / "nested" / "folder" / "h.db").exists()


def test_session_scope_commits_or_rolls_back(engine: Engine):
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        add_sample_job(session, "job_rolled_back")
        raise RuntimeError("stage failed")
    with session_scope(engine) as session:
        add_sample_job(session, "job_kept")
    with session_scope(engine) as session:
        ids = set(session.scalars(select(Job.job_id)))
    assert ids == {"job_kept"}


def test_get_engine_is_cached_per_url(db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", db_url)
    try:
        first = get_engine()
        assert get_engine(load_settings()) is first
        with first.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM jobs")).scalar() == 0
    finally:
        dispose_engines()
    assert get_engine() is not first
    dispose_engines()


def test_a_bad_url_is_a_clear_error():
    with pytest.raises(DatabaseError, match="not valid"):
        make_engine("not a url")
    with pytest.raises(DatabaseError, match="nosuchdriver"):
        make_engine("postgresql+nosuchdriver://u:p@localhost/db")
