"""Where an accepted upload goes: a Prefect event, or a flow run of the deployment.

Both sinks talk to the Prefect server synchronously and raise `DeliveryError` when it
does not accept the request, so the caller can leave the notification to be delivered
again (SQS visibility timeout, a 503 to MinIO, a failed Lambda batch item) instead of
losing an upload. `prefect.events.emit_event` is not used for that reason: it queues the
event in a background worker and only logs a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from bridge.config import S3_EVENT_NAME


class DeliveryError(RuntimeError):
    """Prefect did not accept the event or flow run; the notification should be retried."""


@dataclass(frozen=True)
class Upload:
    """An accepted upload, with the ids that make re-deliveries harmless."""

    bucket: str
    key: str
    etag: str | None
    size: int | None
    job_id: str
    event_id: UUID
    event_time: str | None
    source: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def parameters(self) -> dict[str, str]:
        """The flow parameters a run for this upload gets (the trigger passes the same)."""
        return {"bucket": self.bucket, "key": self.key, "job_id": self.job_id}


class Sink(Protocol):
    def submit(self, upload: Upload) -> str:
        """Hand the upload to Prefect; return what was created (event or flow run id)."""


def _require_api_url() -> str:
    """The server's address; without one Prefect would start a throwaway local server."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise DeliveryError(
            "PREFECT_API_URL is not set: point it at the Prefect server, "
            "e.g. http://127.0.0.1:4200/api"
        )
    return url


def build_event(upload: Upload):  # noqa: ANN201 - a prefect.events.Event
    from prefect.events import Event

    return Event(
        id=upload.event_id,
        # When the bridge saw it: an old S3 time would move Prefect's event clock back.
        occurred=datetime.now(UTC),
        event=S3_EVENT_NAME,
        resource={
            "prefect.resource.id": upload.url,
            "prefect.resource.name": upload.key.rsplit("/", 1)[-1],
            "s3.bucket": upload.bucket,
            "s3.key": upload.key,
        },
        payload={
            "bucket": upload.bucket,
            "key": upload.key,
            "etag": upload.etag,
            "size": upload.size,
            "job_id": upload.job_id,
            "s3_event_time": upload.event_time,
            "delivered_by": upload.source,
        },
    )


class EventSink:
    """POSTs `s3.object.created` to the server's /events API (the deployment trigger reacts)."""

    def submit(self, upload: Upload) -> str:
        from prefect.client.orchestration import get_client

        api_url = _require_api_url()
        event = build_event(upload)
        try:
            with get_client(sync_client=True) as client:
                client.request("POST", "/events", json=[event.model_dump(mode="json")])
        except Exception as exc:  # httpx and Prefect raise many kinds; all mean "not delivered"
            raise DeliveryError(
                f"Prefect at {api_url} did not accept the event for {upload.url}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return str(event.id)


class DeploymentSink:
    """Starts a flow run of the deployment directly, keyed by the job id."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment

    def submit(self, upload: Upload) -> str:
        from prefect.deployments import run_deployment

        api_url = _require_api_url()
        try:
            flow_run = run_deployment(
                self.deployment,
                parameters=upload.parameters(),
                timeout=0,  # do not wait for the run: the worker takes it from here
                # The server hands back the existing run for a repeated key: one run per upload.
                idempotency_key=upload.job_id,
                tags=["s3-bridge"],
            )
        except Exception as exc:
            raise DeliveryError(
                f"Prefect at {api_url} did not start {self.deployment} for {upload.url}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return str(flow_run.id)
