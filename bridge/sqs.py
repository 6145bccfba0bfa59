"""Poll an SQS queue that receives S3 event notifications (directly or through SNS).

    python -m bridge.sqs --queue-url https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE

A message is deleted once it is handled, and also when it is not a notification at
all (it never will be; it is logged). When Prefect or the database does not answer,
the message stays: SQS shows it again after its visibility timeout, and a redrive
policy moves it to a dead-letter queue after repeated failures.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from bridge.config import BridgeConfigError
from bridge.core import Bridge, Decision
from bridge.records import NotificationError

logger = logging.getLogger("bridge.sqs")


@dataclass
class PollResult:
    decisions: list[Decision] = field(default_factory=list)
    deleted: int = 0
    kept: int = 0  # left on the queue for another try


def sqs_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    import boto3

    return boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)


def poll_once(
    client: Any, queue_url: str, bridge: Bridge, wait_seconds: int = 20, max_messages: int = 10
) -> PollResult:
    """Receive one batch (long polling up to `wait_seconds`) and handle each message."""
    response = client.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds
    )
    result = PollResult()
    for message in response.get("Messages", []):
        try:
            result.decisions.extend(bridge.handle(message.get("Body", ""), source="sqs"))
        except NotificationError as exc:
            logger.error(
                "deleting message %s: not an S3 notification: %s", message.get("MessageId"), exc
            )
        except Exception as exc:  # Prefect, the database or the store is down: try later
            logger.error("keeping message %s for another try: %s", message.get("MessageId"), exc)
            result.kept += 1
            continue
        client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        result.deleted += 1
    return result


def run(
    client: Any, queue_url: str, bridge: Bridge, stop: threading.Event, wait_seconds: int = 20
) -> None:
    while not stop.is_set():
        try:
            poll_once(client, queue_url, bridge, wait_seconds)
        except Exception as exc:  # SQS itself unreachable: wait and go on
            logger.error("receiving from %s failed: %s", queue_url, exc)
            stop.wait(5.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bridge.sqs",
        description="Turn S3 notifications from an SQS queue into jobs.",
    )
    parser.add_argument("--queue-url", required=True, help="the SQS queue URL")
    parser.add_argument(
        "--endpoint-url", default=None, help="a non-AWS SQS endpoint (tests, LocalStack)"
    )
    parser.add_argument("--region", default=None, help="AWS region (default: from the environment)")
    parser.add_argument(
        "--wait",
        type=int,
        default=20,
        choices=range(0, 21),
        metavar="0-20",
        help="long-poll seconds per receive (default 20)",
    )
    parser.add_argument("--once", action="store_true", help="handle one batch and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        bridge = Bridge()
    except (BridgeConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    client = sqs_client(args.endpoint_url, args.region)
    if args.once:
        result = poll_once(client, args.queue_url, bridge, args.wait)
        return 1 if result.kept else 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logger.info("polling %s", args.queue_url)
    with contextlib.suppress(KeyboardInterrupt):
        run(client, args.queue_url, bridge, stop, args.wait)
    return 0


if __name__ == "__main__":
    sys.exit(main())
