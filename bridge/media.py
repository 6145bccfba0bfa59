"""Is this object a lecture recording? Decided by name first, then by its first bytes.

The extension settles almost every upload without touching the object. Only when the
name says nothing (no extension, or one we do not know) does the bridge ask the store:
a HEAD for the content type, then, if that is generic, the first bytes of the object
(one ranged GET of `SNIFF_BYTES`) to look for a container signature. That keeps
`incoming/lecture` (no extension, uploaded by a script) from being missed while
`notes.pdf` and `slides.pptx` are dropped without any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

MEDIA_EXTENSIONS = frozenset({
    # video containers
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".flv", ".mpg",
    ".mpeg", ".ts", ".mts", ".m2ts", ".3gp", ".3g2", ".ogv", ".mxf",
    # audio-only lectures (podcasts, recordings without slides)
    ".m4a", ".mp3", ".wav", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma",
})  # fmt: skip
# Names that are certainly not recordings: no request is spent on them.
NON_MEDIA_EXTENSIONS = frozenset({
    ".txt", ".md", ".pdf", ".doc", ".docx", ".ppt", ".pptx", ".key", ".odp", ".xls",
    ".xlsx", ".csv", ".json", ".xml", ".yaml", ".yml", ".html", ".htm", ".srt", ".vtt",
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".zip", ".tar", ".gz", ".7z",
    ".part", ".tmp", ".crdownload", ".log", ".py", ".ipynb",
})  # fmt: skip
MEDIA_CONTENT_PREFIXES = ("video/", "audio/")
MEDIA_CONTENT_TYPES = frozenset(
    {
        "application/mp4",
        "application/ogg",
        "application/mxf",
        "application/vnd.rn-realmedia",
        "application/x-matroska",
    }
)
GENERIC_CONTENT_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/x-www-form-urlencoded"}
)
SNIFF_BYTES = 512  # two MPEG-TS packets: enough for every signature below


@dataclass(frozen=True)
class MediaVerdict:
    is_media: bool | None  # None: the name and content type cannot tell; sniff the bytes
    reason: str


def extension(key: str) -> str:
    return PurePosixPath(key).suffix.lower()


def judge_name(key: str) -> MediaVerdict:
    ext = extension(key)
    if ext in MEDIA_EXTENSIONS:
        return MediaVerdict(True, f"media extension {ext}")
    if ext in NON_MEDIA_EXTENSIONS:
        return MediaVerdict(False, f"{ext} files are not recordings")
    return MediaVerdict(None, f"unknown extension {ext!r}" if ext else "no extension")


def judge_content_type(content_type: str | None) -> MediaVerdict:
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value.startswith(MEDIA_CONTENT_PREFIXES) or value in MEDIA_CONTENT_TYPES:
        return MediaVerdict(True, f"content type {value}")
    if value in GENERIC_CONTENT_TYPES:
        return MediaVerdict(None, f"generic content type {value or '(none)'}")
    return MediaVerdict(False, f"content type {value} is not audio or video")


def sniff_container(head: bytes) -> str | None:
    """The media container the first bytes announce, or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "iso-bmff"  # mp4, mov, m4a, 3gp
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"  # mkv, webm
    if head.startswith(b"RIFF") and head[8:12] in (b"AVI ", b"WAVE"):
        return "riff-" + head[8:12].decode().strip().lower()
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3"):
        return "mp3"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")):
        return "asf"
    if head.startswith(b"\x00\x00\x01\xba") or head.startswith(b"\x00\x00\x01\xb3"):
        return "mpeg-ps"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac-adts"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        # An MP3 frame sync without an ID3 tag; FF FE is a UTF-16 text mark, not audio.
        return None if head[1] == 0xFE else "mpeg-audio"
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return "mpeg-ts"  # two packets in step: one 'G' alone proves nothing
    return None
