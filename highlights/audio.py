"""The job's one audio extraction: decode once, write 16 kHz mono 16-bit PCM WAV.

Silence detection and transcription both read this WAV, so the recording's audio is
decoded exactly once per job. Decoding streams frame by frame and writes as it goes;
memory stays flat whatever the length of the lecture.

Samples are placed by their timestamps, not by counting them: when a recording has
holes in its audio (a dropped USB microphone, an edited file), the gap is filled with
digital silence so that every later sample stays at its true time and transcripts and
silences line up with the video.
"""

from __future__ import annotations

import os
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from highlights.probe import MediaError, media_origin

TARGET_RATE = 16000
# Timestamp disagreements below this are jitter (rounding, resampler delay), not gaps.
_GAP_TOLERANCE_S = 0.010
# A stream whose packets keep failing to decode is broken, not just blemished.
_MAX_BAD_PACKETS = 50


@dataclass(frozen=True)
class AudioInfo:
    """Where the job's extracted audio lives and what it is."""

    sample_rate: int
    duration: float  # seconds of audio in the WAV, from the recording's time zero
    path: str
    source_codec: str | None = None
    source_sample_rate: int | None = None
    source_channels: int | None = None
    gaps_filled_seconds: float = 0.0  # digital silence inserted where the stream had holes
    overlap_dropped_seconds: float = 0.0  # samples dropped where timestamps went backwards
    bad_packets: int = 0  # packets that failed to decode and were skipped


class _TimelineWriter:
    """Writes int16 samples at given timeline positions, padding holes with zeros."""

    def __init__(self, out: wave.Wave_write) -> None:
        self.out = out
        self.written = 0
        self.padded = 0
        self.dropped = 0

    def write_at(self, position: int | None, samples: np.ndarray, tolerance: int) -> None:
        if position is not None:
            drift = position - self.written
            if drift > tolerance:
                self._pad(drift)
            elif drift < -tolerance:
                # timestamps went backwards: these samples overlap audio already written
                cut = min(-drift, samples.size)
                samples = samples[cut:]
                self.dropped += cut
        if samples.size:
            self.out.writeframesraw(samples.tobytes())
            self.written += samples.size

    def _pad(self, count: int) -> None:
        self.padded += count
        self.written += count
        block = np.zeros(min(count, TARGET_RATE * 10), dtype=np.int16).tobytes()
        while count > 0:
            n = min(count, len(block) // 2)
            self.out.writeframesraw(block[: n * 2])
            count -= n


def extract_audio(
    path: str | os.PathLike[str],
    wav_path: str | os.PathLike[str],
    *,
    sample_rate: int = TARGET_RATE,
) -> AudioInfo | None:
    """Decode the first audio stream of `path` to a mono 16-bit WAV at `sample_rate`.

    Returns None when the file has no audio stream (a screen recording without a
    microphone is a normal input). Raises MediaError when the audio cannot be decoded.
    """
    path = Path(path)
    wav_path = Path(wav_path)
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{path.name}: cannot open for audio extraction ({exc.strerror})"
        ) from None
    try:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        wav_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = wav_path.with_name(wav_path.name + ".part")
        with wave.open(str(tmp_path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            stats = _decode_into(container, stream, out, sample_rate)
        os.replace(tmp_path, wav_path)
    finally:
        container.close()

    writer, bad_packets = stats
    if writer.written == 0:
        wav_path.unlink(missing_ok=True)
        raise MediaError(f"{path.name}: the audio stream holds no decodable sound")
    cc = stream.codec_context
    return AudioInfo(
        sample_rate=sample_rate,
        duration=writer.written / sample_rate,
        path=str(wav_path),
        source_codec=cc.name,
        source_sample_rate=cc.sample_rate,
        source_channels=cc.channels,
        gaps_filled_seconds=writer.padded / sample_rate,
        overlap_dropped_seconds=writer.dropped / sample_rate,
        bad_packets=bad_packets,
    )


def _decode_into(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    out: wave.Wave_write,
    sample_rate: int,
) -> tuple[_TimelineWriter, int]:
    origin = media_origin(container)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    writer = _TimelineWriter(out)
    tolerance = int(_GAP_TOLERANCE_S * sample_rate)
    bad_packets = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            bad_packets += 1
            if bad_packets > _MAX_BAD_PACKETS and writer.written == 0:
                raise MediaError(
                    f"{Path(container.name).name}: the audio stream does not decode "
                    f"({stream.codec_context.name}); re-export the recording with AAC audio"
                ) from None
            continue
        for frame in frames:
            position = None
            if frame.pts is not None and frame.time_base is not None:
                position = round((float(frame.pts * frame.time_base) - origin) * sample_rate)
            first = True
            for resampled in resampler.resample(frame):
                samples = resampled.to_ndarray().reshape(-1)
                # only the first output chunk of an input frame is anchored to its pts
                writer.write_at(position if first else None, samples, tolerance)
                first = False
    for resampled in resampler.resample(None):
        writer.write_at(None, resampled.to_ndarray().reshape(-1), tolerance)
    return writer, bad_packets


# --- reading the WAV back -----------------------------------------------------------


def _pcm16_data_span(wav_path: Path) -> tuple[int, int, int, int]:
    """(data offset, data bytes, channels, sample rate) of a 16-bit PCM WAV."""
    with wav_path.open("rb") as fh:
        riff = fh.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            raise MediaError(f"{wav_path.name}: not a WAV file")
        channels = rate = bits = None
        while True:
            header = fh.read(8)
            if len(header) < 8:
                raise MediaError(f"{wav_path.name}: WAV has no data chunk")
            chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk_id == b"fmt ":
                fmt = fh.read(size)
                tag, channels, rate = struct.unpack("<HHI", fmt[:8])
                bits = struct.unpack("<H", fmt[14:16])[0]
                if tag not in (1, 0xFFFE) or bits != 16:
                    raise MediaError(f"{wav_path.name}: expected 16-bit PCM WAV")
                if size % 2:
                    fh.read(1)
            elif chunk_id == b"data":
                if channels is None or rate is None:
                    raise MediaError(f"{wav_path.name}: WAV data before its format chunk")
                offset = fh.tell()
                available = wav_path.stat().st_size - offset
                return offset, min(size, available), channels, rate
            else:
                fh.seek(size + (size % 2), os.SEEK_CUR)


class Pcm16File:
    """A 16-bit PCM WAV's samples, read on demand: `reader[a:b]` is an int16 array.

    Reading blocks through plain file reads (not a memory map) keeps the process's
    resident memory at one block, however long the recording: a memory map would keep
    every page it touched resident. Multi-channel files are averaged to mono per block.
    """

    dtype = np.dtype(np.int16)
    ndim = 1

    def __init__(self, path: Path, offset: int, count: int, channels: int) -> None:
        self.path, self.offset, self.count, self.channels = path, offset, count, channels
        self.shape = (count,)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice):
            raise TypeError("Pcm16File supports slices only")
        start, stop, step = key.indices(self.count)
        if stop <= start:
            return np.zeros(0, dtype=np.int16)
        frame_bytes = 2 * self.channels
        with self.path.open("rb") as fh:
            fh.seek(self.offset + start * frame_bytes)
            raw = fh.read((stop - start) * frame_bytes)
        data = np.frombuffer(raw, dtype="<i2")
        if self.channels > 1:
            data = data[: data.size // self.channels * self.channels].reshape(-1, self.channels)
            data = data.mean(axis=1).astype(np.int16)
        return data[::step] if step != 1 else data


def open_pcm16(wav_path: str | os.PathLike[str]) -> tuple[Pcm16File, int]:
    """A mono 16-bit WAV as (lazy int16 sample reader, sample rate); nothing is loaded yet.

    An hour at 16 kHz is 115 MB as int16 and 230 MB as float32; analysis reads it in
    blocks through this reader instead of loading it.
    """
    wav_path = Path(wav_path)
    offset, nbytes, channels, rate = _pcm16_data_span(wav_path)
    return Pcm16File(wav_path, offset, nbytes // (2 * channels), channels), rate
