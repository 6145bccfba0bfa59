"""S3 event notifications, in every envelope they arrive in, as plain object records.

The same S3 event JSON (`{"Records": [{"eventName": "ObjectCreated:Put", "s3": {...}}]}`)
reaches us wrapped in different ways:

- an SQS message: the body is the S3 event JSON (a string);
- SNS fan-out into SQS or Lambda: an SNS envelope whose `Message` is that string;
- a Lambda invocation: the event dict itself, or SQS/SNS records that wrap it;
- a MinIO webhook: the same `Records` list, with `EventName` and `Key` added on top.

`parse_notification` unwraps all of them into `ObjectEvent`s. Keys in S3 events are
URL-encoded with `+` for spaces (`my+lecture%C3%A9.mp4`), so they are decoded here, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


class NotificationError(ValueError):
    """The message is not an S3 event notification we can read; the text says what is wrong."""


@dataclass(frozen=True)
class ObjectEvent:
    """One object-level S3 event, key already decoded."""

    event_name: str  # normalised without the MinIO "s3:" prefix, e.g. "ObjectCreated:Put"
    bucket: str
    key: str
    etag: str | None
    size: int | None
    sequencer: str | None
    event_time: str | None
    content_type: str | None  # MinIO sends it; AWS does not
    source: str  # which envelope it came in: "s3", "sqs", "sns", "minio", "lambda"

    @property
    def is_object_created(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


# MinIO reports these as ObjectCreated although no new content was written.
_METADATA_ONLY_EVENTS = ("ObjectCreated:PutRetention", "ObjectCreated:PutLegalHold")


def is_metadata_only(event: ObjectEvent) -> bool:
    return event.event_name in _METADATA_ONLY_EVENTS


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise NotificationError(f"{what} is not JSON ({exc.msg} at position {exc.pos})") from None


def _as_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _s3_record(record: dict[str, Any], source: str) -> ObjectEvent:
    s3 = record.get("s3")
    if not isinstance(s3, dict):
        raise NotificationError("an S3 event record has no 's3' section")
    bucket = (s3.get("bucket") or {}).get("name")
    obj = s3.get("object") or {}
    raw_key = obj.get("key")
    if not bucket or not isinstance(raw_key, str) or not raw_key:
        raise NotificationError("an S3 event record lacks s3.bucket.name or s3.object.key")
    event_name = str(record.get("eventName") or "")
    etag = obj.get("eTag") or obj.get("etag")
    return ObjectEvent(
        event_name=event_name.removeprefix("s3:"),
        bucket=str(bucket),
        key=unquote_plus(raw_key),
        etag=str(etag).strip('"') if etag else None,
        size=_as_int(obj.get("size")),
        sequencer=obj.get("sequencer"),
        event_time=record.get("eventTime"),
        content_type=obj.get("contentType") or None,
        source=source,
    )


def _records(message: dict[str, Any], source: str) -> list[ObjectEvent]:
    events: list[ObjectEvent] = []
    for record in message.get("Records") or []:
        if not isinstance(record, dict):
            raise NotificationError("an entry of 'Records' is not an object")
        origin = record.get("eventSource") or record.get("EventSource") or ""
        if origin == "aws:sqs" and "body" in record:  # SQS -> Lambda
            events.extend(parse_notification(record["body"], source="sqs"))
        elif origin == "aws:sns" and isinstance(record.get("Sns"), dict):  # SNS -> Lambda
            events.extend(parse_notification(record["Sns"].get("Message", ""), source="sns"))
        elif "s3" in record:
            events.append(_s3_record(record, source))
        else:
            raise NotificationError(
                f"a record from {origin or 'an unknown source'!r} is not an S3 event record"
            )
    return events


def parse_notification(
    body: dict[str, Any] | str | bytes, source: str | None = None
) -> list[ObjectEvent]:
    """Every object event in `body`, whatever envelope it came in.

    Returns [] for messages that carry no object events (the `s3:TestEvent` S3 sends
    when notifications are configured, SNS subscription confirmations). Raises
    NotificationError for anything that is not a notification at all.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        if not body.strip():
            raise NotificationError("the notification body is empty")
        body = _loads(body, "the notification body")
    if not isinstance(body, dict):
        raise NotificationError(f"the notification is a JSON {type(body).__name__}, not an object")

    if body.get("Type") in ("Notification",) and "Message" in body:  # SNS envelope
        return parse_notification(body["Message"], source="sns")
    if body.get("Type") in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return []
    if body.get("Event") == "s3:TestEvent":
        return []
    if "Records" in body:
        if not isinstance(body["Records"], list):
            raise NotificationError("'Records' is not a list")
        kind = source or ("minio" if "EventName" in body else "s3")
        return _records(body, kind)
    raise NotificationError(
        "not an S3 event notification: expected a 'Records' list (S3/MinIO), "
        "an SNS envelope, or an SQS/Lambda record batch"
    )
