"""From an S3 notification to exactly one job per upload.

For each object event: keep only new objects under the configured bucket and prefix,
skip the pipeline's own output, keep only audio/video. Then claim the upload's job: the
job id is derived from bucket, key and ETag, and the bridge inserts the `queued` job row
itself, so the database's unique job id makes any number of deliveries (from any
number of bridge processes) one job. Only the delivery that created the row, or one
that finds it still waiting for its run, sends the upload to Prefect.

Every event gets a `Decision` saying what happened and why; entry points log and return it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from bridge.config import BridgeConfig, load_bridge_config
from bridge.identity import event_id_for, job_id_for
from bridge.media import MediaVerdict, judge_content_type, judge_name
from bridge.probe import ObjectGone, S3Probe
from bridge.records import ObjectEvent, is_metadata_only, parse_notification
from bridge.sinks import DeploymentSink, EventSink, Sink, Upload
from highlights.settings import Settings, load_settings
from highlights.storage import parse_s3_url

logger = logging.getLogger("bridge")

# Folders the pipeline writes under its storage prefix; an upload there is our own output.
OWN_FOLDERS = ("uploads/", "results/", "work/")


class Action(StrEnum):
    TRIGGERED = "triggered"  # a new job: created queued and handed to Prefect
    RESENT = "resent"  # its job still waits for a run: handed to Prefect again (idempotent)
    DUPLICATE = "duplicate"  # its job is already running or done: nothing to do
    IGNORED = "ignored"  # not an upload we process


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    bucket: str
    key: str
    etag: str | None = None
    job_id: str | None = None
    reference: str | None = None  # the Prefect event id or flow run id, when triggered

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "action": str(self.action)}


def _own_prefix(settings: Settings) -> tuple[str, str] | None:
    if not settings.uses_s3:
        return None
    bucket, prefix = parse_s3_url(settings.storage_url)
    return bucket, (prefix.strip("/") + "/" if prefix.strip("/") else "")


class Bridge:
    """The decision logic with its collaborators; one per process."""

    def __init__(
        self,
        config: BridgeConfig | None = None,
        settings: Settings | None = None,
        sink: Sink | None = None,
        probe: S3Probe | None = None,
    ) -> None:
        self.config = config or load_bridge_config()
        self.settings = settings or load_settings()
        if sink is None:
            sink = (
                DeploymentSink(self.config.deployment)
                if self.config.mode == "deployment"
                else EventSink()
            )
        self.sink = sink
        self.probe = probe or S3Probe(self.settings.s3_endpoint_url)
        self.own = _own_prefix(self.settings)

    def warm_up(self) -> None:
        """Import Prefect's client and open a database connection now, so the first
        notification is answered as fast as the rest (a webhook sender times out)."""
        import prefect.client.orchestration  # noqa: F401
        import prefect.events  # noqa: F401
        from sqlalchemy import text

        from db.engine import get_engine

        try:
            with get_engine(self.settings).connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # reported, not fatal: the database may come up later
            logger.warning("database not reachable yet: %s", exc)

    # -- filters -----------------------------------------------------------------------

    def _skip_reason(self, event: ObjectEvent) -> str | None:
        if not event.is_object_created:
            return f"{event.event_name or 'unnamed event'} is not an object creation"
        if is_metadata_only(event):
            return f"{event.event_name} changes metadata only"
        if not self.config.wants_bucket(event.bucket):
            return f"bucket {event.bucket} is not the upload bucket {self.config.bucket}"
        if not self.config.wants_key(event.key):
            return f"key is outside the upload prefix {self.config.prefix!r}"
        if event.key.endswith("/"):
            return "a folder marker, not a file"
        if event.size == 0:
            return "the object is empty (0 bytes)"
        if self.own and event.bucket == self.own[0]:
            relative = event.key[len(self.own[1]) :] if event.key.startswith(self.own[1]) else None
            if relative is not None and relative.startswith(OWN_FOLDERS):
                return "the pipeline's own stored file (HIGHLIGHTS_STORAGE_URL)"
        return None

    def _media(self, event: ObjectEvent) -> MediaVerdict:
        verdict = judge_name(event.key)
        if verdict.is_media is not None:
            return verdict
        if event.content_type:  # MinIO puts it in the event: no request needed
            by_type = judge_content_type(event.content_type)
            if by_type.is_media is not None:
                return by_type
        if not self.config.sniff:
            return MediaVerdict(False, f"{verdict.reason} (HIGHLIGHTS_BRIDGE_SNIFF is off)")
        return self.probe.judge(event.bucket, event.key)

    def _claim_job(self, event: ObjectEvent, job_id: str) -> tuple[bool, str, str | None]:
        """Create the upload's queued job unless it exists: (created, status, flow run id)."""
        from sqlalchemy.exc import IntegrityError

        from db.engine import get_engine, session_scope
        from db.queries import get_job
        from flows.jobs import create_job

        def existing() -> tuple[bool, str, str | None] | None:
            with session_scope(get_engine(self.settings)) as session:
                job = get_job(session, job_id)
                return None if job is None else (False, job.status, job.flow_run_id)

        found = existing()
        if found:
            return found
        trigger = {"kind": "s3-event", "etag": event.etag, "size": event.size,
                   "delivered_by": event.source, "s3_event_time": event.event_time}  # fmt: skip
        try:
            create_job(self.settings, event.url, job_id=job_id, extra_metadata={"trigger": trigger})
        except IntegrityError:  # another delivery created it a moment ago
            found = existing()
            if found:
                return found
            raise
        return True, "queued", None

    # -- one event ---------------------------------------------------------------------

    def decide(self, event: ObjectEvent, seen: set[str]) -> Decision:
        def decision(action: Action, reason: str, **extra: Any) -> Decision:
            return Decision(action, reason, event.bucket, event.key, event.etag, **extra)

        reason = self._skip_reason(event)
        if reason:
            return decision(Action.IGNORED, reason)
        try:
            verdict = self._media(event)
        except ObjectGone as exc:
            return decision(Action.IGNORED, f"{exc} any more")
        if not verdict.is_media:
            return decision(Action.IGNORED, f"not audio or video: {verdict.reason}")

        job_id = job_id_for(event)
        if job_id in seen:
            return decision(Action.DUPLICATE, "repeated in the same notification", job_id=job_id)
        seen.add(job_id)
        created, status, flow_run_id = self._claim_job(event, job_id)
        if not created and (status != "queued" or flow_run_id):
            return decision(Action.DUPLICATE, f"job already exists ({status})", job_id=job_id)
        upload = Upload(
            bucket=event.bucket,
            key=event.key,
            etag=event.etag,
            size=event.size,
            job_id=job_id,
            event_id=event_id_for(event),
            event_time=event.event_time,
            source=event.source,
        )
        # A DeliveryError propagates: the job stays queued and the redelivery sends it again.
        reference = self.sink.submit(upload)
        if created:
            reason = f"{verdict.reason}; job created, sent to Prefect ({self.config.mode})"
            return decision(Action.TRIGGERED, reason, job_id=job_id, reference=reference)
        return decision(
            Action.RESENT,
            "job still waits for its run; sent to Prefect again (same event id / run key)",
            job_id=job_id,
            reference=reference,
        )

    def handle(
        self, body: dict[str, Any] | str | bytes, source: str | None = None
    ) -> list[Decision]:
        seen: set[str] = set()
        decisions = []
        for event in parse_notification(body, source=source):
            result = self.decide(event, seen)
            logger.info(
                "%s s3://%s/%s: %s", result.action, result.bucket, result.key, result.reason
            )
            decisions.append(result)
        return decisions


_default: Bridge | None = None
_default_lock = threading.Lock()


def default_bridge() -> Bridge:
    """The process-wide bridge built from the environment (so its memory is shared)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Bridge()
        return _default


def handle_notification(
    body: dict[str, Any] | str | bytes, bridge: Bridge | None = None
) -> list[Decision]:
    """Decide and act on every object event in an S3 notification (any envelope).

    Raises `NotificationError` for a body that is not a notification, and `DeliveryError`
    when Prefect did not take an accepted upload (the caller should let it be retried).
    """
    return (bridge or default_bridge()).handle(body)
