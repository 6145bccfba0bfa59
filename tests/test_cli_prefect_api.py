"""The CLI's temporary Prefect API: it boots beside the CLI's own start-up, serves the
flow, stops with the run, and a server that cannot start fails the job with the reason."""

from __future__ import annotations

import socket

import httpx
import pytest

from cli.prefect_api import ApiStartError, TemporaryApi


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_temporary_api_answers_then_stops() -> None:
    api = TemporaryApi({})
    try:
        api.wait_ready(timeout=120)
        assert httpx.get(f"{api.url}/health", timeout=5).status_code == 200
        assert api.url.startswith("http://127.0.0.1:") and api.url.endswith("/api")
    finally:
        api.stop()
    assert not port_open(api.port)


def test_a_server_that_cannot_start_says_why(tmp_path) -> None:  # noqa: ANN001
    # A database URL nothing answers at: the server's start-up fails and it exits.
    api = TemporaryApi({"PREFECT_API_DATABASE_CONNECTION_URL":
                        "postgresql+asyncpg://nobody:secret@127.0.0.1:9/prefect"})
    try:
        with pytest.raises(ApiStartError, match="exited with code"):
            api.wait_ready(timeout=120)
    finally:
        api.stop()
