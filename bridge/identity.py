"""Deterministic ids: the same upload always maps to the same job and the same event.

S3 delivers notifications at least once, and an SQS message whose handler crashed comes
back. Deriving the job id and the Prefect event id from (bucket, key, ETag) makes every
re-delivery name the same job: the bridge sees the job exists, Prefect drops an event
id it has already processed, and `run_deployment` reuses the flow run that has the same
idempotency key. A new upload to the same key has a new ETag, hence a new job.
"""

from __future__ import annotations

import uuid

from bridge.records import ObjectEvent

# Fixed forever: changing it would give old uploads new job ids.
NAMESPACE = uuid.UUID("5b0f3c1e-8f52-4c55-9d0e-2a6f7e4b1c01")


def upload_identity(event: ObjectEvent) -> str:
    """What makes an upload unique: its location and its content tag.

    Without an ETag (some S3-compatible servers omit it) the sequencer, then the event
    time, stand in: they still repeat on re-delivery of the same notification.
    """
    version = event.etag or event.sequencer or event.event_time or ""
    return f"{event.bucket}\n{event.key}\n{version}"


def job_id_for(event: ObjectEvent) -> str:
    return str(uuid.uuid5(NAMESPACE, "job\n" + upload_identity(event)))


def event_id_for(event: ObjectEvent) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "s3.object.created\n" + upload_identity(event))
