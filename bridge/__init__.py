"""S3 event notifications into Prefect: one job per uploaded lecture, however often S3 tells us.

Entry points: `handle_notification(body)`, `python -m bridge.webhook` (MinIO),
`python -m bridge.sqs` (SQS, also SNS-wrapped), `bridge.lambda_handler.handler` (Lambda).
"""

from bridge.core import Action, Bridge, Decision, handle_notification
from bridge.records import NotificationError, ObjectEvent, parse_notification
from bridge.sinks import DeliveryError

__all__ = [
    "Action",
    "Bridge",
    "Decision",
    "DeliveryError",
    "NotificationError",
    "ObjectEvent",
    "handle_notification",
    "parse_notification",
]
