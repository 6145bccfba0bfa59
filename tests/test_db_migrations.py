"""The Alembic migration: in sync with the models, reversible, usable from anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from db.engine import DatabaseError, make_engine
from db.migrate import alembic_config, downgrade_db, init_db, migrations_folder, schema_differences
from tests.services import free_port

REPO = Path(__file__).resolve().parents[1]
TABLES = {
    "jobs",
    "transcripts",
    "silence_regions",
    "layout_analysis",
    "content_segments",
    "clips",
    "processing_logs",
}


@pytest.fixture(params=["sqlite_url", pytest.param("postgres_url", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(request.param)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_autogenerate_finds_no_difference(engine: Engine):
    with engine.connect() as connection:
        assert schema_differences(connection) == []


def test_no_difference_once_prefect_server_code_is_loaded(empty_url: str):
    # Prefect's server recompiles `now()` for SQLite when imported; the API and the
    # ephemeral runner import it in-process. A database migrated by a process without
    # Prefect (the CLI's `db upgrade`) must still match the models in one with it.
    import subprocess
    import sys

    migrate = f"from db.migrate import init_db; init_db({empty_url!r})"
    subprocess.run([sys.executable, "-c", migrate], check=True, cwd=Path(__file__).parents[1])
    import prefect.server.utilities.database  # noqa: F401

    engine = make_engine(empty_url)
    with engine.connect() as connection:
        assert schema_differences(connection) == []
    engine.dispose()


def test_autogenerate_notices_a_real_difference(empty_url: str):
    # Proves the comparison above can fail: remove an index the models declare.
    init_db(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_clips_importance_score"))
    with engine.connect() as connection:
        differences = schema_differences(connection)
    engine.dispose()
    assert [d[0] for d in differences] == ["add_index"]
    assert differences[0][1].name == "ix_clips_importance_score"


def test_upgrade_then_downgrade_leaves_no_tables(empty_url: str):
    init_db(empty_url)
    assert tables(empty_url) == TABLES | {"alembic_version"}
    downgrade_db(empty_url, "base")
    assert tables(empty_url) - {"alembic_version"} == set()
    init_db(empty_url)  # and back up again
    assert tables(empty_url) >= TABLES


def test_upgrade_is_idempotent(empty_url: str):
    init_db(empty_url)
    init_db(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("0002",)
        ]
    engine.dispose()


def test_init_db_works_from_any_working_directory(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    init_db(sqlite_url)
    assert tables(sqlite_url) >= TABLES
    assert migrations_folder() == REPO / "migrations"


def test_alembic_command_line_reads_the_url_from_the_environment(empty_url: str, tmp_path: Path):
    env = {**os.environ, "HIGHLIGHTS_DATABASE_URL": empty_url}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,  # not the repo: the ini must locate the scripts by itself
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Running upgrade  -> 0001" in result.stderr
    assert tables(empty_url) >= TABLES


BATCH_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "0002"


def upgrade():
    with op.batch_alter_table("jobs", recreate="always") as batch:
        batch.alter_column("progress_message", existing_type=sa.String(500), type_=sa.Text())


def downgrade():
    pass
"""


def test_sqlite_batch_migrations_do_not_cascade_deletes(sqlite_url: str, tmp_path: Path):
    # A batch migration on SQLite copies a table and drops the original; with foreign keys
    # on, dropping `jobs` would wipe every child row. env.py turns them off meanwhile.
    from alembic import command

    init_db(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO jobs (job_id, filename, file_size, content_type, original_s3_key, "
                "status) VALUES ('job_1', 'a.mp4', 1, 'video/mp4', 'k', 'queued')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO transcripts (segment_id, job_id, start_time, end_time, text) "
                "VALUES ('t1', 'job_1', 0, 1, 'hello')"
            )
        )
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations_folder(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0099_batch.py").write_text(BATCH_REVISION)
    config = alembic_config(sqlite_url)
    config.set_main_option("script_location", str(scripts))
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0099"
        )
        assert connection.execute(text("SELECT count(*) FROM transcripts")).scalar() == 1
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_migrating_an_unreachable_server_names_it():
    port = free_port()
    url = f"postgresql+psycopg2://nobody:secret@127.0.0.1:{port}/nowhere"
    with pytest.raises(DatabaseError) as error:
        init_db(url)
    message = str(error.value)
    assert f"127.0.0.1:{port}" in message and "cannot migrate" in message
    assert "secret" not in message  # the password never reaches logs
    assert "\n" not in message


def _segment_fk_ondelete(engine: Engine) -> str:
    (fk,) = [fk for fk in inspect(engine).get_foreign_keys("clips")
             if fk["constrained_columns"] == ["content_segment_id"]]
    return (fk.get("options") or {}).get("ondelete", "").upper()


def test_revision_0002_makes_clips_cascade_with_their_segment_and_back(empty_url: str):
    from alembic import command

    config = alembic_config(empty_url)
    command.upgrade(config, "0001")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO jobs (job_id, filename, file_size, content_type, original_s3_key, status) "
            "VALUES ('job_1', 'a.mp4', 1, 'video/mp4', 'k', 'completed')"))
        for n in (1, 2):
            connection.execute(text(
                "INSERT INTO content_segments (segment_id, job_id, start_time, end_time, duration, "
                f"topic, importance_score, segment_order) VALUES ('seg_{n}', 'job_1', 0, 1, 1, 't', "
                f"0.5, {n})"))
            connection.execute(text(
                "INSERT INTO clips (clip_id, job_id, content_segment_id, title, start_time, end_time, "
                f"duration, s3_key) VALUES ('clip_{n}', 'job_1', 'seg_{n}', 't', 0, 1, 1, 'k')"))
    assert _segment_fk_ondelete(engine) == "SET NULL"
    engine.dispose()

    command.upgrade(config, "0002")
    engine = make_engine(empty_url)
    assert _segment_fk_ondelete(engine) == "CASCADE"
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM clips")).scalar() == 2  # kept
        connection.execute(text("DELETE FROM content_segments WHERE segment_id = 'seg_1'"))
        assert connection.execute(text("SELECT clip_id FROM clips")).scalars().all() == ["clip_2"]
    engine.dispose()

    command.downgrade(config, "0001")
    engine = make_engine(empty_url)
    assert _segment_fk_ondelete(engine) == "SET NULL"
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM content_segments WHERE segment_id = 'seg_2'"))
        assert connection.execute(text(
            "SELECT content_segment_id FROM clips WHERE clip_id = 'clip_2'")).scalar() is None
    engine.dispose()
