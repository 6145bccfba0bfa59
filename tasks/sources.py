"""Bring a lecture given by the user (a local path or an s3:// URL) into the work folder."""

from __future__ import annotations

from pathlib import Path

from highlights.settings import Settings
from highlights.storage import is_s3_url, parse_s3_object_url
from tasks.errors import StageError


def source_filename(source: str) -> str:
    if is_s3_url(source):
        return parse_s3_object_url(source)[1].rsplit("/", 1)[-1]
    return Path(source).name


def local_source(source: str, settings: Settings, dest_dir: Path) -> Path:
    """The lecture as a local file: the path itself, or a download of the S3 object."""
    if not is_s3_url(source):
        path = Path(source).expanduser()
        if not path.exists():
            raise StageError(f"file not found: {path}")
        if not path.is_file():
            raise StageError(f"{path} is not a file")
        return path
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = parse_s3_object_url(source)
    dest = dest_dir / "source" / (Path(key).name or "lecture")
    dest.parent.mkdir(parents=True, exist_ok=True)
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url,
                          config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    try:
        client.download_file(bucket, key, str(dest))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        missing = code in ("404", "NoSuchKey", "NoSuchBucket")
        raise StageError(f"cannot download {source}: {code or exc}",
                         transient=not missing and code not in ("403", "AccessDenied")) from None
    except BotoCoreError as exc:
        raise StageError(f"cannot download {source}: {exc}", transient=True) from None
    return dest
