"""Bring a lecture given by the user (a local path or an s3:// URL) into the work folder."""

from __future__ import annotations

from pathlib import Path

from highlights.settings import Settings
from tasks.errors import StageError


def is_s3_url(source: str) -> bool:
    return source.startswith("s3://")


def split_s3_url(source: str) -> tuple[str, str]:
    rest = source[len("s3://"):]
    bucket, _, key = rest.partition("/")
    if not bucket or not key:
        raise StageError(f"{source!r} is not an S3 object URL; use s3://BUCKET/KEY")
    return bucket, key  # keys are taken literally: "%41" in a key is three characters


def source_filename(source: str) -> str:
    if is_s3_url(source):
        return split_s3_url(source)[1].rsplit("/", 1)[-1]
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

    bucket, key = split_s3_url(source)
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
