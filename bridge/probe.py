"""Looking at an object the name did not explain: its content type, then its first bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.media import SNIFF_BYTES, MediaVerdict, judge_content_type, sniff_container


class ObjectGone(LookupError):
    """The object was deleted (or never readable) by the time the bridge looked."""


@dataclass
class S3Probe:
    """HEAD and ranged GET through boto3 (AWS, or MinIO/moto via `endpoint_url`)."""

    endpoint_url: str | None = None
    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", endpoint_url=self.endpoint_url)
        return self._client

    def _call(self, method: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return method(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
                raise ObjectGone(
                    f"s3://{kwargs['Bucket']}/{kwargs['Key']} does not exist"
                ) from None
            raise

    def content_type(self, bucket: str, key: str) -> str | None:
        head = self._call(self.client.head_object, Bucket=bucket, Key=key)
        return head.get("ContentType")

    def first_bytes(self, bucket: str, key: str, count: int = SNIFF_BYTES) -> bytes:
        response = self._call(
            self.client.get_object, Bucket=bucket, Key=key, Range=f"bytes=0-{count - 1}"
        )
        with response["Body"] as body:
            return body.read(count)

    def judge(self, bucket: str, key: str) -> MediaVerdict:
        """Content type first; a generic one sends us to the bytes themselves."""
        verdict = judge_content_type(self.content_type(bucket, key))
        if verdict.is_media is not None:
            return verdict
        container = sniff_container(self.first_bytes(bucket, key))
        if container:
            return MediaVerdict(True, f"{container} signature in the first bytes")
        return MediaVerdict(
            False, f"{verdict.reason} and no audio/video signature in the first bytes"
        )
