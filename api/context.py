"""What every route needs, built once per app: settings, auth, database, store, runner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.auth import Auth
from api.files import FileUrls
from api.launcher import JobLauncher
from db.engine import session_scope
from highlights.settings import Settings
from highlights.storage import Storage


@dataclass
class ApiContext:
    settings: Settings
    auth: Auth
    engine: Engine
    storage: Storage
    launcher: JobLauncher
    urls: FileUrls

    @property
    def incoming_dir(self) -> Path:
        """Where uploads stream to before they move into the store (beside job work dirs)."""
        return self.settings.work_dir / "incoming"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session


def get_context(request: Request) -> ApiContext:
    return request.app.state.context
