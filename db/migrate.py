"""Alembic from code: find the migrations, upgrade, downgrade, and compare models to a database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import JSON
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from db.engine import DatabaseError, describe_url
from db.models import Base
from highlights.settings import load_settings


def migrations_folder() -> Path:
    """The Alembic scripts folder, wherever the project runs from.

    In a checkout or an editable install it is `migrations/` beside the `db` package; a
    wheel may ship it inside the package as `db/migrations`.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseError(
        f"the Alembic migrations folder was not found beside {package} "
        "(expected migrations/env.py); reinstall the project"
    )


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config that finds the migrations from any working directory."""
    folder = migrations_folder()
    ini = folder.parent / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(folder))
    # Programmatic callers (the app, a worker) keep their own logging set-up.
    config.attributes["configure_logging"] = False
    if url is not None:
        # ConfigParser treats % as interpolation; URL-encoded passwords contain it.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _first_line(exc: OperationalError) -> str:
    return (str(exc.orig) if exc.orig else str(exc)).strip().splitlines()[0]


def init_db(url: str | None = None) -> None:
    """Bring the database at `url` (default: the configured one) to the newest schema."""
    url = url or load_settings().database_url
    try:
        command.upgrade(alembic_config(url), "head")
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot migrate database {describe_url(url)}: {_first_line(exc)}"
        ) from None


def downgrade_db(url: str, revision: str = "base") -> None:
    """Undo migrations down to `revision` (`base` drops every table)."""
    try:
        command.downgrade(alembic_config(url), revision)
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot downgrade database {describe_url(url)}: {_first_line(exc)}"
        ) from None


def _normalised_json(default: str | None) -> Any:
    if default is None:
        return None
    value = default.strip()
    for cast in ("::jsonb", "::json"):
        value = value.removesuffix(cast)
    value = value.strip("'\"")
    try:
        return json.loads(value)
    except ValueError:
        return value


def compare_server_default(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Compare JSON defaults by value: PostgreSQL has no `json = text` operator, which breaks
    Alembic's own check. Other columns get Alembic's comparison (None)."""
    if not isinstance(metadata_column.type, JSON):
        return None
    return _normalised_json(inspected_default) != _normalised_json(rendered_metadata_default)


AUTOGENERATE_OPTIONS: dict[str, Any] = {
    "compare_type": True,
    "compare_server_default": compare_server_default,
}


def schema_differences(connection: Connection) -> list[Any]:
    """What autogenerate would change to make the database match the models ([] = in sync)."""
    context = MigrationContext.configure(
        connection,
        opts={**AUTOGENERATE_OPTIONS, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return list(compare_metadata(context, Base.metadata))
