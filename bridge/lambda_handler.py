"""AWS Lambda entry point: `bridge.lambda_handler.handler`.

Works for the three ways S3 notifications reach a Lambda function:
- S3 invokes it directly (`{"Records": [{"eventSource": "aws:s3", ...}]}`);
- an SNS topic invokes it (records wrap the S3 event in `Sns.Message`);
- an SQS event source mapping invokes it with a batch of messages. Then each message is
  handled on its own and the ones that failed are reported in `batchItemFailures`, so
  only they come back (enable "ReportBatchItemFailures" on the mapping).

A failure to reach Prefect raises (direct and SNS invocations are retried by Lambda).
"""

from __future__ import annotations

import logging
from typing import Any

from bridge.core import default_bridge, handle_notification
from bridge.records import NotificationError

logger = logging.getLogger("bridge.lambda")


def _is_sqs_batch(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return bool(records) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records
    )


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if isinstance(event, dict) and _is_sqs_batch(event):
        decisions: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for record in event["Records"]:
            try:
                body = record.get("body", "")
                decisions.extend(d.to_dict() for d in default_bridge().handle(body, source="sqs"))
            except NotificationError as exc:  # retrying cannot help; drop it, loudly
                logger.error(
                    "message %s is not an S3 notification: %s", record.get("messageId"), exc
                )
            except Exception as exc:
                logger.error("message %s will be retried: %s", record.get("messageId"), exc)
                failures.append({"itemIdentifier": str(record.get("messageId", ""))})
        return {"batchItemFailures": failures, "decisions": decisions}
    return {"decisions": [d.to_dict() for d in handle_notification(event)]}
