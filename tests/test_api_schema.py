"""Property-based run of the API against its own OpenAPI schema (schemathesis).

Every operation gets bounded, generated requests - valid and invalid parameters, bodies
of both submit content types, random job ids and file keys - sent to the real app (real
SQLite database, local store, S3 checks against the loopback S3 server, the real
local runner). Whatever is sent, the API must never answer with a 5xx, and its
answers must match the schema it publishes.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from highlights.storage import open_storage
from tests.api_helpers import AUTH, api_environment, apply_environment, seed_job

# Per operation and mode; raise it (API_SCHEMA_EXAMPLES=500) for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", "30"))
SEEDED_JOB = "job-seeded-000001"


@pytest.fixture
def api_app(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, s3_server
) -> Iterator[FastAPI]:
    env = api_environment(tmp_path, sqlite_template)
    settings_ = apply_environment(monkeypatch, {
        **env, "HIGHLIGHTS_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    })  # fmt: skip
    seed_job(settings_, open_storage(settings_), SEEDED_JOB, status="failed")
    app = create_app(settings_)  # the real runner chosen from the environment: local
    with TestClient(app):  # runs the start-up checks (store, runner warm-up)
        yield app


# Every operation the schema publishes (test_the_list_covers_the_schema keeps this honest).
OPERATIONS = [
    ("POST", "/jobs"), ("GET", "/jobs"), ("GET", "/jobs/{job_id}"), ("GET", "/jobs/{job_id}/clips"),
    ("GET", "/jobs/{job_id}/transcript"), ("GET", "/jobs/{job_id}/segments"),
    ("GET", "/jobs/{job_id}/timeline"), ("GET", "/jobs/{job_id}/search"), ("POST", "/jobs/{job_id}/retry"),
    ("DELETE", "/jobs/{job_id}"), ("GET", "/files/{key}"), ("GET", "/health"), ("GET", "/info"),
]  # fmt: skip
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_list_covers_the_schema(api_app: FastAPI) -> None:
    published = {
        (method.upper(), path)
        for path, item in api_app.openapi()["paths"].items()
        for method in item
    }
    assert published == set(OPERATIONS)


# Operations without parameters or body have no invalid input to generate.
WITHOUT_INPUT = {("GET", "/health"), ("GET", "/info")}
# Random ids only ever find 404s; the reads also run on the seeded job, so that full
# answers (a job with clips, transcript, segments, timeline) are checked against the schema.
SEEDED_READS = [
    (method, path)
    for method, path in OPERATIONS
    if method == "GET" and path.startswith("/jobs/{job_id}")
]
CASES = [
    pytest.param(method, path, mode, None, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode.is_positive or (method, path) not in WITHOUT_INPUT
]
CASES += [
    pytest.param(
        method, path, GenerationMode.POSITIVE, SEEDED_JOB, id=f"{method} {path} seeded job"
    )
    for method, path in SEEDED_READS
]


@pytest.mark.parametrize(("method", "path", "mode", "job_id"), CASES)
def test_no_server_errors_and_answers_match_the_schema(
    api_app: FastAPI, method: str, path: str, mode: GenerationMode, job_id: str | None
) -> None:
    operation = schemathesis.openapi.from_asgi("/openapi.json", api_app)[path][method]
    checks = CHECKS + ([negative_data_rejection] if mode.is_negative else [])
    fixed = {"path_parameters": {"job_id": job_id}} if job_id else {}
    statuses: Counter[int] = Counter()

    # The token is given, not generated: negative cases break parameters and bodies past
    # authentication (tests/test_api.py covers missing and wrong tokens).
    @given(case=operation.as_strategy(generation_mode=mode, headers=AUTH, **fixed))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case) -> None:
        response = case.call_and_validate(checks=checks)
        statuses[response.status_code] += 1

    exercise()
    print(f"{method} {path} {job_id or mode.value}: {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= 1
    if job_id:
        assert statuses[200] >= 1, statuses
