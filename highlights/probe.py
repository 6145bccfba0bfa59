"""Probe a media file: what it holds, from its bytes, and whether it is usable at all.

Ingest calls `probe_media` before anything else so that a bad upload fails at once with
a message the user can act on (`MediaError`), instead of deep inside a later stage.
The content type is sniffed from the file's bytes (puremagic, then PyAV's own
demuxer probe), never from its name.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import puremagic

from highlights.errors import HighlightsError
from highlights.types import MediaProbe

# Seconds of media at the end of the file that must still demux; a file cut short after
# its index (moov at the front, faststart) opens fine and only fails here.
_TAIL_CHECK_SECONDS = 3.0
# Packets we are willing to feed a decoder before declaring the stream undecodable.
_FIRST_FRAME_PACKETS = 64


class MediaError(HighlightsError, ValueError):
    """The input cannot be processed; the message is one line a user can act on.

    Not transient when the bytes themselves are bad; transient for conditions that may
    clear up (the file is not there yet, an I/O error).
    """

    @property
    def permanent(self) -> bool:
        return not self.transient


def media_origin(container: av.container.InputContainer) -> float:
    """The container's first timestamp in seconds: time zero of 'the recording'.

    Audio and video passes both subtract it, so their times line up even when a
    file's streams start at a non-zero pts (MPEG-TS, edited MP4s).
    """
    start = container.start_time
    return start / av.time_base if start is not None and start > 0 else 0.0


# --- content type -------------------------------------------------------------------

# puremagic extension -> container family
_MAGIC_FAMILY = {
    ".mp4": "mp4",
    ".m4a": "mp4",
    ".m4v": "mp4",
    ".f4a": "mp4",
    ".f4v": "mp4",
    ".3gp": "mp4",
    ".3g2": "mp4",
    ".mov": "quicktime",
    ".qt": "quicktime",
    ".mkv": "matroska",
    ".mka": "matroska",
    ".webm": "webm",
    ".mp3": "mp3",
    ".wav": "wav",
    ".flac": "flac",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".ogv": "ogg",
    ".opus": "ogg",
    ".avi": "avi",
    ".aac": "aac",
    ".ts": "mpegts",
    ".mts": "mpegts",
}

# PyAV (libavformat) demuxer name -> container family, when puremagic has no answer
_AV_FAMILY = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "matroska",
    "mp3": "mp3",
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",
    "avi": "avi",
    "aac": "aac",
    "mpegts": "mpegts",
}

# family -> (MIME when there is video, MIME when audio only)
_MIME = {
    "mp4": ("video/mp4", "audio/mp4"),
    "quicktime": ("video/quicktime", "audio/mp4"),
    "matroska": ("video/x-matroska", "audio/x-matroska"),
    "webm": ("video/webm", "audio/webm"),
    "mp3": ("audio/mpeg", "audio/mpeg"),
    "wav": ("audio/wav", "audio/wav"),
    "flac": ("audio/flac", "audio/flac"),
    "ogg": ("video/ogg", "audio/ogg"),
    "avi": ("video/x-msvideo", "video/x-msvideo"),
    "aac": ("audio/aac", "audio/aac"),
    "mpegts": ("video/mp2t", "video/mp2t"),
}


def _read_head(path: Path, size: int = 65536) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _magic_family(head: bytes) -> str | None:
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        family = _MAGIC_FAMILY.get(match.extension.lower())
        if family:
            return family
    return None


def _iso_brand(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return head[8:12].decode("latin-1")
    return None


def sniff_family(head: bytes, av_format_name: str | None) -> str | None:
    """Container family from the first bytes; PyAV's demuxer choice as a fallback."""
    family = _magic_family(head) or _AV_FAMILY.get(av_format_name or "")
    if family in ("mp4", "quicktime"):
        # the ftyp brand is the authority between MP4 and QuickTime
        family = "quicktime" if _iso_brand(head) == "qt  " else "mp4"
    if family in ("matroska", "webm"):
        # EBML DocType sits in the first few dozen bytes
        family = "webm" if b"\x42\x82\x84webm" in head[:64] else "matroska"
    return family


def content_type_for(family: str | None, has_video: bool) -> str:
    if family is None:
        return "application/octet-stream"
    video_mime, audio_mime = _MIME[family]
    return video_mime if has_video else audio_mime


# --- stream facts -------------------------------------------------------------------


def _ratio_text(ratio: Fraction | None) -> str:
    if not ratio or ratio.numerator <= 0 or ratio.denominator <= 0:
        return "1:1"
    return f"{ratio.numerator}:{ratio.denominator}"


def _stream_fps(stream: av.video.stream.VideoStream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and rate > 0:
            return float(rate)
    return None


def _declared_duration(container: av.container.InputContainer) -> float | None:
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    durations = [
        float(s.duration * s.time_base)
        for s in container.streams
        if s.duration and s.time_base and s.duration > 0
    ]
    return max(durations) if durations else None


def _scanned_duration(path: Path) -> float | None:
    """Duration by demuxing every packet (no decoding) for files without a header duration.

    Every check opens the file afresh: files without an index may refuse to seek.
    """
    with av.open(str(path)) as container:
        origin = media_origin(container)
        end = None
        streams = [s for s in container.streams if s.type in ("audio", "video")]
        try:
            for packet in container.demux(streams):
                if packet.pts is None or packet.time_base is None:
                    continue
                t = float((packet.pts + (packet.duration or 0)) * packet.time_base) - origin
                end = t if end is None else max(end, t)
        except av.error.FFmpegError:
            pass  # a damaged tail: the duration is what could be read
        return end


def _first_frame(path: Path, index: int) -> bool:
    """True when the first packets of stream `index` decode to a frame."""
    with av.open(str(path)) as container:
        stream = container.streams[index]
        try:
            for fed, packet in enumerate(container.demux(stream), start=1):
                for _frame in packet.decode():
                    return True
                if fed >= _FIRST_FRAME_PACKETS:
                    return False
        except av.error.FFmpegError:
            return False
    return False


def _tail_demuxes(path: Path, indices: list[int], duration: float) -> bool:
    """True when packets near the declared end of the file can still be read.

    The seek lands on the keyframe before the target, so packets are demuxed (not
    decoded) until one ends past the target: cheap even with long GOPs.
    """
    with av.open(str(path)) as container:
        streams = [container.streams[i] for i in indices]
        origin = media_origin(container)
        target = max(0.0, duration - min(_TAIL_CHECK_SECONDS, duration * 0.2)) + origin
        try:
            container.seek(int(target * av.time_base), backward=True)
            for packet in container.demux(streams):
                if packet.size == 0 or packet.pts is None or packet.time_base is None:
                    continue
                if float((packet.pts + (packet.duration or 0)) * packet.time_base) >= target:
                    return True
        except av.error.FFmpegError:
            return False
    return False


def probe_media(path: str | os.PathLike[str], *, check_decode: bool = True) -> MediaProbe:
    """Describe the file at `path`; raise MediaError if it cannot be processed.

    With `check_decode` (the default) the first frames of each used stream are decoded
    and the end of the file is demuxed, which catches corrupt and truncated uploads
    at a cost of a few milliseconds.
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(f"{name}: file not found", transient=True) from None
    except OSError as exc:
        raise MediaError(
            f"{name}: cannot read the file ({exc.strerror})", transient=True
        ) from None
    if path.is_dir():
        raise MediaError(f"{name}: is a folder, not a media file")
    if size == 0:
        raise MediaError(f"{name}: the file is empty (0 bytes); upload it again")

    head = _read_head(path)
    magic = _magic_family(head)
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        if magic is not None or _iso_brand(head):
            raise MediaError(
                f"{name}: looks like {magic or 'MP4'} but is truncated or corrupt "
                f"({exc.strerror or 'unreadable'}); re-export or upload the complete file"
            ) from None
        raise MediaError(
            f"{name}: not a recognised audio or video file; upload an MP4, MOV, MKV, WebM, "
            "M4A, MP3 or WAV recording"
        ) from None

    try:
        return _probe_open(container, path, head, size, check_decode)
    except MediaError:
        raise
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{name}: the file is corrupt ({exc.strerror or 'decode error'}); "
            "re-export or upload the complete file"
        ) from None
    finally:
        container.close()


def _probe_open(
    container: av.container.InputContainer, path: Path, head: bytes, size: int, check_decode: bool
) -> MediaProbe:
    name = path.name
    video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None and audio is None:
        raise MediaError(f"{name}: contains no audio or video stream; upload a lecture recording")

    duration = _declared_duration(container)
    scanned = duration is None
    if scanned:
        duration = _scanned_duration(path)
    if not duration or duration <= 0:
        raise MediaError(f"{name}: has zero or unknown duration; the recording seems to be empty")

    if check_decode:
        for stream in (video, audio):
            if stream is not None and not _first_frame(path, stream.index):
                raise MediaError(
                    f"{name}: the {stream.type} stream does not decode (corrupt or unsupported "
                    f"{stream.codec_context.name}); re-export the recording as H.264/AAC MP4"
                )
        used = [s.index for s in (video, audio) if s is not None]
        # a scanned duration already is where the readable data ends
        if not scanned and not _tail_demuxes(path, used, duration):
            raise MediaError(
                f"{name}: the file is truncated (it ends before its declared "
                f"{duration:.1f} s); upload the complete file"
            )

    family = sniff_family(head, container.format.name)
    extra: dict[str, Any] = {
        "size_bytes": size,
        "format_name": container.format.name,
        "bit_rate": container.bit_rate,
        "start_time": media_origin(container),
        "stream_count": len(container.streams),
    }
    width = height = None
    fps = None
    pixel_aspect = None
    if video is not None:
        vcc = video.codec_context
        width, height = vcc.width, vcc.height
        fps = _stream_fps(video)
        pixel_aspect = _ratio_text(video.sample_aspect_ratio or vcc.sample_aspect_ratio)
        extra["pix_fmt"] = vcc.pix_fmt
        rotate = video.metadata.get("rotate")
        if rotate:
            extra["rotation"] = rotate
        sar = video.sample_aspect_ratio or Fraction(1, 1)
        if width and height and sar > 0:
            extra["display_aspect"] = round(float(width * sar / height), 4)
    sample_rate = channels = None
    if audio is not None:
        acc = audio.codec_context
        sample_rate = acc.sample_rate
        channels = acc.channels
    return MediaProbe(
        duration=round(float(duration), 3),
        content_type=content_type_for(family, video is not None),
        container=family or container.format.name,
        has_video=video is not None,
        has_audio=audio is not None,
        width=width,
        height=height,
        fps=round(fps, 3) if fps else None,
        video_codec=video.codec_context.name if video is not None else None,
        audio_codec=audio.codec_context.name if audio is not None else None,
        sample_rate=sample_rate,
        channels=channels,
        pixel_aspect=pixel_aspect,
        extra=extra,
    )


def _is_cover_art(stream: av.stream.Stream) -> bool:
    """MP3/M4A album art shows up as a one-frame video stream; it is not video."""
    disposition = getattr(stream, "disposition", None)
    if disposition is not None:
        try:
            return bool(disposition & av.stream.Disposition.attached_pic)
        except (AttributeError, TypeError):
            pass
    return stream.codec_context.name in ("mjpeg", "png") and (stream.frames or 0) <= 1


def video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The container's real video stream (cover art excluded), or None."""
    return next((s for s in container.streams.video if not _is_cover_art(s)), None)
