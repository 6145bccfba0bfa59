"""The bridge's own settings, read from the environment like the app's.

HIGHLIGHTS_UPLOAD_BUCKET   only objects in this bucket start jobs (empty: any bucket)
HIGHLIGHTS_UPLOAD_PREFIX   only keys under this prefix, e.g. `incoming/` (empty: any key)
HIGHLIGHTS_BRIDGE_MODE     `event` (emit `s3.object.created`; the deployment's trigger
                           starts the run) or `deployment` (start the run directly)
HIGHLIGHTS_BRIDGE_DEPLOYMENT  FLOW/DEPLOYMENT started in `deployment` mode
HIGHLIGHTS_BRIDGE_SNIFF    `true`: objects whose name says nothing are checked by
                           content type and first bytes (one HEAD and one ranged GET)
HIGHLIGHTS_BRIDGE_TOKEN    a bearer token the webhook requires (MinIO's `auth_token`)
PREFECT_API_URL            the Prefect server, e.g. http://prefect:4200/api
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from flows.names import PROCESS_DEPLOYMENT

BRIDGE_MODES = ("event", "deployment")
DEFAULT_DEPLOYMENT = PROCESS_DEPLOYMENT
S3_EVENT_NAME = "s3.object.created"


class BridgeConfigError(ValueError):
    """A bridge setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class BridgeConfig:
    bucket: str | None = None
    prefix: str = ""
    mode: str = "event"
    deployment: str = DEFAULT_DEPLOYMENT
    sniff: bool = True
    token: str | None = None

    def wants_bucket(self, bucket: str) -> bool:
        return self.bucket is None or bucket == self.bucket

    def wants_key(self, key: str) -> bool:
        return key.startswith(self.prefix)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise BridgeConfigError(f"{name}={raw!r} is not a yes/no value; use true or false")


def load_bridge_config(env: Mapping[str, str] | None = None) -> BridgeConfig:
    env = os.environ if env is None else env
    mode = env.get("HIGHLIGHTS_BRIDGE_MODE", "").strip().lower() or "event"
    if mode not in BRIDGE_MODES:
        raise BridgeConfigError(
            f"HIGHLIGHTS_BRIDGE_MODE={mode!r} is not valid; use one of: {', '.join(BRIDGE_MODES)}"
        )
    deployment = env.get("HIGHLIGHTS_BRIDGE_DEPLOYMENT", "").strip() or DEFAULT_DEPLOYMENT
    if deployment.count("/") != 1 or deployment.startswith("/") or deployment.endswith("/"):
        raise BridgeConfigError(
            f"HIGHLIGHTS_BRIDGE_DEPLOYMENT={deployment!r} must be FLOW_NAME/DEPLOYMENT_NAME"
        )
    bucket = env.get("HIGHLIGHTS_UPLOAD_BUCKET", "").strip() or None
    if bucket and ("/" in bucket or bucket.startswith("s3:")):
        raise BridgeConfigError(
            f"HIGHLIGHTS_UPLOAD_BUCKET={bucket!r} must be a bare bucket name (put the folder "
            "in HIGHLIGHTS_UPLOAD_PREFIX)"
        )
    return BridgeConfig(
        bucket=bucket,
        prefix=env.get("HIGHLIGHTS_UPLOAD_PREFIX", "").lstrip("/"),
        mode=mode,
        deployment=deployment,
        sniff=_flag(env, "HIGHLIGHTS_BRIDGE_SNIFF", True),
        token=env.get("HIGHLIGHTS_BRIDGE_TOKEN", "").strip() or None,
    )
