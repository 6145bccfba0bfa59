"""A local HTTP server that speaks the OpenAI audio transcription protocol.

It is a real server on 127.0.0.1, so the real `openai` SDK (multipart upload, headers,
status handling) runs against it. Its answers come from the uploaded audio itself: it
decodes each chunk with PyAV, finds the voiced stretches and returns one verbose_json
segment per stretch, with chunk-relative times, so a client that forgets a chunk's offset
gets visibly wrong timestamps.

Which text a stretch carries is read from the audio too: test recordings made by
`write_tone_speech_wav` voice utterance i as a syllable-modulated tone at
`tone_frequency(i)`; the server measures the tone and answers `script[i]`.
"""

from __future__ import annotations

import io
import json
import threading
import time
import wave
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import numpy as np

SAMPLE_RATE = 16000
API_UPLOAD_LIMIT = 25 * 1024 * 1024
_TONE_BASE_HZ = 250.0
_TONE_STEP_HZ = 20.0
_TONE_IDS = 300  # 250..6230 Hz: inside the 8 kHz band a 16 kHz Opus chunk keeps
_FRAME = 320  # 20 ms
_VOICED_DBFS = -35.0
HALLUCINATION = "Thank you for watching."


def tone_frequency(index: int) -> float:
    return _TONE_BASE_HZ + _TONE_STEP_HZ * (index % _TONE_IDS)


def tone_index(frequency: float) -> int:
    return int(round((frequency - _TONE_BASE_HZ) / _TONE_STEP_HZ))


def write_tone_speech_wav(
    path: str | Path,
    utterances: Sequence[tuple[float, float]],
    duration: float,
    *,
    seed: int = 0,
) -> None:
    """A 16 kHz mono 16-bit WAV: utterance i is a 4 Hz syllable-modulated tone at
    tone_frequency(i); everything else is a faint noise floor (a quiet room, not zeros).

    Written a minute at a time, so an hour-long recording costs little memory."""
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 6.28, size=len(utterances))
    total = int(round(duration * SAMPLE_RATE))
    block = 60 * SAMPLE_RATE
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        for first in range(0, total, block):
            last = min(total, first + block)
            audio = rng.standard_normal(last - first, dtype=np.float32) * 10 ** (-62 / 20)
            for i, (start, end) in enumerate(utterances):
                a, b = int(round(start * SAMPLE_RATE)), int(round(end * SAMPLE_RATE))
                lo, hi = max(a, first), min(b, last)
                if lo >= hi:
                    continue
                t = np.arange(lo - a, hi - a, dtype=np.float32) / SAMPLE_RATE
                syllables = 0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * t + phases[i])
                edge = np.minimum(t, (b - a) / SAMPLE_RATE - t)
                ramp = np.minimum(1.0, edge / 0.02)  # no clicks at the edges
                tone = np.sin(2 * np.pi * tone_frequency(i) * t)
                audio[lo - first : hi - first] += 0.3 * syllables * ramp * tone
            out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


@dataclass
class Upload:
    """What the server saw of one request."""

    arrived: float  # time.monotonic()
    status: int
    size: int = 0
    duration: float = 0.0
    filename: str = ""
    content_type: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def _error_body(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def decode_audio(data: bytes) -> np.ndarray:
    """Decode any uploaded audio to 16 kHz mono float32, as the real service would."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def voiced_stretches(samples: np.ndarray, *, min_gap: float = 0.3) -> list[tuple[float, float]]:
    usable = len(samples) - len(samples) % _FRAME
    if usable == 0:
        return []
    rms = np.sqrt(np.mean(np.square(samples[:usable].reshape(-1, _FRAME)), axis=1))
    voiced = 20 * np.log10(np.maximum(rms, 1e-9)) > _VOICED_DBFS
    hop = _FRAME / SAMPLE_RATE
    stretches: list[list[float]] = []
    for i in np.flatnonzero(voiced):
        t = i * hop
        if stretches and t - stretches[-1][1] <= min_gap:
            stretches[-1][1] = t + hop
        else:
            stretches.append([t, t + hop])
    return [(a, b) for a, b in stretches if b - a >= 0.2]


def dominant_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    band = (freqs > 150) & (freqs < 7000)
    return float(freqs[band][np.argmax(spectrum[band])])


class FakeWhisperServer:
    """Use as a context manager; `base_url` goes to the SDK.

    script: texts by utterance index (see module docstring).
    hallucinate_in_silence: when set, every silent stretch at least this long gets a
        confident-looking "Thank you for watching." segment, as Whisper does.
    no_speech_texts: utterances answered with no_speech_prob 0.9 and avg_logprob -1.3.
    latency: seconds each request takes, so that concurrency becomes observable
        (`max_in_flight`).
    text_only: answer {"text": ...} alone, as a server that ignores verbose_json would.
    """

    def __init__(
        self,
        script: Sequence[str] = (),
        *,
        api_key: str = "sk-test-key",
        models: Sequence[str] = ("whisper-1",),
        hallucinate_in_silence: float | None = None,
        no_speech_texts: Sequence[str] = (),
        latency: float = 0.0,
        text_only: bool = False,
    ) -> None:
        self.script = list(script)
        self.api_key = api_key
        self.models = set(models)
        self.hallucinate_in_silence = hallucinate_in_silence
        self.no_speech_texts = set(no_speech_texts)
        self.latency = latency
        self.text_only = text_only
        self.uploads: list[Upload] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._failures: deque[_Failure] = deque()
        self._always: _Failure | None = None
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- scripting -------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        for _ in range(count):
            self._failures.append(
                _Failure(
                    status,
                    headers or {},
                    _error_body(
                        f"scripted failure {status}",
                        "server_error" if status >= 500 else "requests",
                        code,
                    ),
                )
            )

    def fail_always(self, status: int, *, headers: dict[str, str] | None = None) -> None:
        self._always = _Failure(
            status, headers or {}, _error_body(f"scripted failure {status}", "server_error", None)
        )

    @property
    def successful_uploads(self) -> list[Upload]:
        return [u for u in self.uploads if u.status == 200]

    # -- lifecycle -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeWhisperServer:
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- the answer ------------------------------------------------------------------
    def _next_failure(self) -> _Failure | None:
        with self._lock:
            if self._failures:
                return self._failures.popleft()
            return self._always

    def transcribe(self, samples: np.ndarray) -> dict[str, Any]:
        duration = len(samples) / SAMPLE_RATE
        segments: list[dict[str, Any]] = []
        words: list[dict[str, Any]] = []
        stretches = voiced_stretches(samples)
        pieces: list[tuple[float, float, str, bool]] = []
        for start, end in stretches:
            a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
            index = tone_index(dominant_frequency(samples[a:b]))
            text = self.script[index] if 0 <= index < len(self.script) else f"utterance {index}"
            pieces.append((start, end, text, False))
        if self.hallucinate_in_silence is not None:
            edges = [0.0] + [t for s in stretches for t in s] + [duration]
            for gap_start, gap_end in zip(edges[::2], edges[1::2], strict=True):
                if gap_end - gap_start >= self.hallucinate_in_silence:
                    pieces.append((gap_start + 0.1, gap_end - 0.1, HALLUCINATION, True))
        pieces.sort()
        for i, (start, end, text, invented) in enumerate(pieces):
            silent = text in self.no_speech_texts
            segments.append({
                "id": i, "seek": 0, "start": round(start, 2), "end": round(end, 2),
                "text": " " + text, "tokens": [], "temperature": 0.0,
                "avg_logprob": -1.3 if silent else (-0.45 if invented else -0.2),
                "compression_ratio": 1.3, "no_speech_prob": 0.9 if silent else 0.05,
            })  # fmt: skip
            tokens = text.split()
            step = (end - start) / len(tokens)
            for j, token in enumerate(tokens):
                words.append(
                    {
                        "word": token,
                        "start": round(start + j * step, 2),
                        "end": round(start + (j + 0.8) * step, 2),
                    }
                )
        return {
            "task": "transcribe", "language": "english", "duration": round(duration, 3),
            "text": " ".join(s["text"].strip() for s in segments),
            "segments": segments, "words": words,
            "usage": {"type": "duration", "seconds": round(duration)},
        }  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    fake: FakeWhisperServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        fake = self.fake
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.latency:
                time.sleep(fake.latency)
            self._answer()
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _answer(self) -> None:
        fake = self.fake
        upload = Upload(arrived=time.monotonic(), status=0)
        with fake._lock:
            fake.uploads.append(upload)
        body = self._read_body()
        if self.path.rstrip("/") != "/v1/audio/transcriptions":
            upload.status = 404
            return self._send(
                404, _error_body(f"no route {self.path}", "invalid_request_error", None)
            )
        if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            upload.status = 401
            return self._send(
                401,
                _error_body(
                    "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
                ),
            )
        message = BytesParser(policy=email_policy).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body
        )
        audio = b""
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name == "file":
                audio = part.get_payload(decode=True) or b""
                upload.filename = part.get_filename() or ""
                upload.content_type = part.get_content_type()
            else:
                upload.fields.setdefault(str(name), []).append(part.get_content().strip())
        upload.size = len(audio)
        failure = fake._next_failure()
        if failure is not None:
            upload.status = failure.status
            return self._send(failure.status, failure.body, failure.headers)
        if len(audio) > API_UPLOAD_LIMIT:
            upload.status = 413
            return self._send(
                413,
                _error_body(
                    "Maximum content size limit (26214400) exceeded.", "invalid_request_error", None
                ),
            )
        model = upload.fields.get("model", [""])[0]
        if model not in fake.models:
            upload.status = 404
            return self._send(
                404,
                _error_body(
                    f"The model `{model}` does not exist.",
                    "invalid_request_error",
                    "model_not_found",
                ),
            )
        if upload.fields.get("response_format", [""])[0] != "verbose_json":
            upload.status = 400
            return self._send(
                400,
                _error_body("this fake only speaks verbose_json", "invalid_request_error", None),
            )
        try:
            samples = decode_audio(audio)
        except av.FFmpegError as exc:
            upload.status = 400
            return self._send(
                400, _error_body(f"Invalid file format: {exc}", "invalid_request_error", None)
            )
        upload.duration = len(samples) / SAMPLE_RATE
        upload.status = 200
        answer = fake.transcribe(samples)
        self._send(200, {"text": answer["text"]} if fake.text_only else answer)
