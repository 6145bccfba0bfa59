"""A small HTTP endpoint for MinIO bucket notifications (or anything that POSTs S3 events).

    python -m bridge.webhook --host 0.0.0.0 --port 8500

MinIO is pointed at it with `MINIO_NOTIFY_WEBHOOK_ENABLE_<ID>=on` and
`MINIO_NOTIFY_WEBHOOK_ENDPOINT_<ID>=http://bridge:8500/minio`, then
`mc event add ALIAS/BUCKET arn:minio:sqs::<ID>:webhook --event put`.

Status codes tell the sender what to do: 200 handled (the body lists the decisions),
400 not a notification (sending it again will not help), 401 wrong token, 503 Prefect
or the database did not answer (MinIO keeps the event in its queue_dir and retries).
"""

from __future__ import annotations

import argparse
import contextvars
import hmac
import json
import logging
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bridge.config import BridgeConfigError
from bridge.core import Bridge
from bridge.records import NotificationError
from bridge.sinks import DeliveryError

logger = logging.getLogger("bridge.webhook")
MAX_BODY_BYTES = 8 * 1024 * 1024  # an S3 notification is a few KB; refuse anything absurd


def _token_ok(header: str | None, token: str | None) -> bool:
    if token is None:
        return True
    if not header:
        return False
    # MinIO sends "Bearer <token>", or the token as given when it already has a scheme.
    return any(hmac.compare_digest(header, expected) for expected in (f"Bearer {token}", token))


class WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookServer
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("the client left before the %d reply", status)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        # MinIO checks that the endpoint answers before it accepts the target.
        self._reply(200, {"status": "ok"})

    do_HEAD = do_GET  # noqa: N815

    def do_POST(self) -> None:  # noqa: N802
        if not _token_ok(self.headers.get("Authorization"), self.server.bridge.config.token):
            self._reply(
                401, {"error": "missing or wrong Authorization token (HIGHLIGHTS_BRIDGE_TOKEN)"}
            )
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length <= 0 or length > MAX_BODY_BYTES:
            self._reply(
                400, {"error": f"a notification body of 1 to {MAX_BODY_BYTES} bytes is required"}
            )
            return
        body = self.rfile.read(length)
        try:
            # Each request thread runs in a copy of the context the server was made in,
            # so Prefect settings set around `make_server` hold for every request.
            decisions = self.server.context.copy().run(self.server.bridge.handle, body)
        except NotificationError as exc:
            logger.warning("rejected a request: %s", exc)
            self._reply(400, {"error": str(exc)})
            return
        except DeliveryError as exc:
            logger.error("%s", exc)
            self._reply(503, {"error": str(exc)})
            return
        except Exception as exc:  # the database or the object store: worth a retry
            logger.exception("failed to handle a notification")
            self._reply(503, {"error": f"{type(exc).__name__}: {exc}"})
            return
        self._reply(200, {"decisions": [d.to_dict() for d in decisions]})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        logger.debug("%s - %s", self.address_string(), format % args)


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], bridge: Bridge) -> None:
        super().__init__(address, WebhookHandler)
        self.bridge = bridge
        self.context = contextvars.copy_context()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(
    host: str = "127.0.0.1", port: int = 8500, bridge: Bridge | None = None
) -> WebhookServer:
    return WebhookServer((host, port), bridge or Bridge())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bridge.webhook",
        description="Receive S3/MinIO event notifications over HTTP.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8500, help="port to listen on (default 8500)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        server = make_server(args.host, args.port)
    except (BridgeConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    # SIGTERM (docker stop) ends serve_forever cleanly; shutdown() must come from another thread.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.bridge.warm_up()
    logger.info("listening on %s", server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
