"""Transcription benchmark: local speed, and what the API path uploads.

    uv run python bench/bench_transcription.py [--file LECTURE.mp4|.wav] [--threads 2]
        [--beam 5] [--batch 8] [--api-minutes 60] [--skip-local] [--skip-api]
    uv run python bench/bench_transcription.py --compare [--dense-minutes 10] [--wpm 165]

Local: the realtime factor of faster-whisper (bundled base model, int8) on `--threads`
cores, on the given file or the shortest generated lecture; wall-clock and CPU time are
both printed because the machine may be shared (the target is >= 10x realtime on 2
cores); the word error rate too when a ground-truth JSON sits beside the file.

Compare: sequential against batched decoding (batch 4/8/16, beam 1/5, and the batched
pipeline's VAD and segmentation options) on one material, each configuration in a fresh
process (a second transcription in a process that lost the model's loading thread runs
slower; see docs/benchmarks.md). The material is `--file` with its truth JSON, or by
default dense generated speech: `--dense-minutes` of the topic texts in
tests/content_topics.py read by espeak-ng at `--wpm`, sentences 0.15-0.45 s apart, over
the generator's room noise; its words per minute are printed. Each row gives wall and
process CPU seconds (the machine may be shared: CPU time holds under contention), the
realtime factor by both, peak memory and the word error rate against the script.

API: a synthetic lecture of `--api-minutes` goes through the OpenAI provider against the
local fake server (tests/fakes/openai_server.py), with the provider's default chunking;
prints the chunk count, bytes uploaded and the largest chunk, against the 25 MiB limit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))  # content_topics: the dense material's texts

from highlights.audio import extract_audio  # noqa: E402
from highlights.transcription import local  # noqa: E402
from highlights.transcription.local import LocalWhisperTranscriber, load_model  # noqa: E402
from highlights.transcription.model_store import resolve_model  # noqa: E402
from highlights.transcription.openai_api import (  # noqa: E402
    API_UPLOAD_LIMIT_BYTES,
    OpenAITranscriber,
)
from tests.fakes.openai_server import FakeWhisperServer, write_tone_speech_wav  # noqa: E402

LECTURES = ROOT / "tests" / "fixtures" / "lectures"


def _normalise(text: str) -> str:
    text = text.lower().replace("-", "").replace("’", "'")
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


def _default_file() -> Path:
    found = sorted(LECTURES.glob("*.json"), key=lambda p: json.loads(p.read_text())["duration"])
    if not found:
        raise SystemExit(f"no lecture given and none generated in {LECTURES}")
    return found[0].with_suffix(".mp4")


def _as_wav(path: Path, tmp: Path) -> Path:
    if path.suffix.lower() == ".wav":
        return path
    wav = tmp / "audio.wav"
    extract_audio(path, wav)
    return wav


def _reference(path: Path) -> str | None:
    truth = path.with_suffix(".json")
    return json.loads(truth.read_text())["transcript"] if truth.is_file() else None


def _wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(_normalise(reference), _normalise(hypothesis)))


def measure_local(wav: Path, reference: str | None, config: dict) -> dict:
    """Transcribe once with `config`; the figures as a dict (model load not counted)."""
    if "vad_silence_ms" in config:  # else the transcriber's own choice
        local.BATCHED_VAD = {
            "min_silence_duration_ms": config["vad_silence_ms"],
            "speech_pad_ms": config["vad_pad_ms"],
        }
    if "segment_timestamps" in config:
        local.BATCHED_SEGMENT_TIMESTAMPS = config["segment_timestamps"]
    folder, source = resolve_model("base")
    # Timed on its own for the "load" column; transcribe() loads the model again (it is
    # not kept between recordings), so its wall and CPU include one load, as the stage's do.
    started = time.monotonic()
    load_model(folder, config["threads"])
    load_seconds = time.monotonic() - started
    transcriber = LocalWhisperTranscriber(
        "base", cpu_threads=config["threads"], beam_size=config["beam"],
        batch_size=config["batch"],
    )  # fmt: skip
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0, wall0 = time.process_time(), time.monotonic()
    transcript = transcriber.transcribe(str(wav))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    hypothesis = " ".join(s.text for s in transcript.segments)
    return {
        **config,
        "model_source": source,
        "duration": transcript.metadata["duration"],
        "load_seconds": round(load_seconds, 2),
        "wall": round(wall, 2),
        "cpu": round(cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                - rss_before) / 1024),
        "segments": len(transcript.segments),
        "words": len(transcript.words),
        "wer": None if reference is None else round(_wer(reference, hypothesis), 4),
        "hypothesis": hypothesis,
        "load_average": os.getloadavg()[0],
    }  # fmt: skip


def bench_local(path: Path, threads: int, beam: int, batch: int, tmp: Path) -> None:
    config = {"threads": threads, "beam": beam, "batch": batch}
    r = measure_local(_as_wav(path, tmp), _reference(path), config)
    decoder = f"batch {batch}" if batch >= 2 else "sequential"
    duration, wall, cpu = r["duration"], r["wall"], r["cpu"]
    print(f"local faster-whisper base int8 ({r['model_source']}), {threads} threads, "
          f"beam {beam}, {decoder}")  # fmt: skip
    print(f"  file              {path.name}  ({duration:.1f} s of audio)")
    print(f"  model load        {r['load_seconds']:.2f} s")
    print(f"  wall              {wall:.2f} s  -> {duration / wall:.1f}x realtime")
    print(f"  cpu               {cpu:.2f} s  -> {duration / (cpu / threads):.1f}x realtime "
          f"if the {threads} cores were ours alone")  # fmt: skip
    print(f"  segments / words  {r['segments']} / {r['words']}")
    if r["wer"] is not None:
        print(f"  word error rate   {r['wer']:.1%}")


# --- sequential against batched, on dense speech -------------------------------------

COMPARE_CONFIGS: list[dict] = [
    {"label": "sequential, beam 5 (before)", "batch": 0, "beam": 5},
    {"label": "sequential, beam 1", "batch": 0, "beam": 1},
    *[
        {"label": f"batch {b}, beam {beam}", "batch": b, "beam": beam}
        for beam in (5, 1)
        for b in (4, 8, 16)
    ],
    # Memory grows with batch x beam (decoder state per hypothesis): smaller products
    *[
        {"label": f"batch {b}, beam {beam}", "batch": b, "beam": beam}
        for b, beam in ((2, 5), (3, 5), (4, 3), (4, 2), (8, 2))
    ],
    # VAD: a pause this long ends a speech piece / padding around each piece
    *[
        {"label": f"batch 4, beam 5, VAD {ms} ms / pad {pad} ms", "batch": 4, "beam": 5,
         "vad_silence_ms": ms, "vad_pad_ms": pad}
        for ms, pad in ((160, 400), (250, 200), (500, 200), (500, 400), (1000, 200))
    ],
    {"label": "batch 8, beam 5, timestamp tokens", "batch": 8, "beam": 5,
     "segment_timestamps": True},
]  # fmt: skip


def dense_lecture(out: Path, minutes: float, wpm: int) -> tuple[Path, str]:
    """A WAV of continuous lecture speech and its script, cached beside `out`."""
    wav, script = out.with_suffix(".wav"), out.with_suffix(".txt")
    if wav.is_file() and script.is_file():
        return wav, script.read_text()
    from content_topics import ALL_TOPICS

    from lecturesynth.audio import PlacedUtterance, RoomNoise, write_soundtrack
    from lecturesynth.speech import SpeechSynthesizer, Voice

    rate = 16000
    synth = SpeechSynthesizer(Voice(words_per_minute=wpm), rate)
    rng = np.random.default_rng(14)
    # Digits are read out by espeak but written as digits in the script: leave them out
    # so the error rate measures recognition, not number formatting.
    sentences = [s for t in ALL_TOPICS for s in t.sentences if not re.search(r"[0-9]", s)]
    placed, said, clock = [], [], 1.0
    for sentence in sentences:
        if clock >= minutes * 60.0:
            break
        audio = synth.synthesize(sentence)
        placed.append(PlacedUtterance(int(clock * rate), audio))
        said.append(sentence)
        clock += len(audio) / rate + float(rng.uniform(0.15, 0.45))
    if clock < minutes * 60.0:
        raise SystemExit(f"the topic texts last only {clock / 60:.1f} min at {wpm} wpm")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_soundtrack(wav, int((clock + 1.0) * rate), rate, placed, RoomNoise(seed=14))
    script.write_text(" ".join(said))
    return wav, script.read_text()


def _measure_in_child(wav: Path, reference: Path, config: dict) -> dict:
    cmd = [sys.executable, __file__, "--measure", json.dumps(config),
           "--file", str(wav), "--reference", str(reference)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{config['label']} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(args: argparse.Namespace, tmp: Path) -> None:
    if args.file:
        wav, reference = _as_wav(args.file, tmp), _reference(args.file)
        if reference is None:
            raise SystemExit(f"--compare needs {args.file.with_suffix('.json')} for the WER")
        name = args.file.name
    else:
        cache = Path(tempfile.gettempdir()) / "bench-transcription"
        wav, reference = dense_lecture(
            cache / f"dense-{args.dense_minutes:g}min-{args.wpm}wpm", args.dense_minutes, args.wpm
        )
        name = f"dense generated speech, espeak-ng at {args.wpm} wpm"
    ref_file = tmp / "reference.txt"
    ref_file.write_text(reference)
    duration = _wav_seconds(wav)
    words = len(reference.split())
    print(f"material: {name}: {duration / 60:.1f} min, {words} words, "
          f"{words / duration * 60:.0f} words/min; base int8, {args.threads} threads")  # fmt: skip
    print(f"{'configuration':42} {'wall s':>7} {'cpu s':>7} {'RTF wall':>8} {'RTF cpu':>8} "
          f"{'WER':>6} {'peak MB':>7} {'segs':>5} {'load':>5}")  # fmt: skip
    rows = []
    for config in COMPARE_CONFIGS:
        if args.only and not _selected(config["label"], args.only):
            continue
        r = _measure_in_child(wav, ref_file, {**config, "threads": args.threads})
        rows.append(r)
        print(f"{r['label']:42} {r['wall']:7.1f} {r['cpu']:7.1f} "
              f"{r['duration'] / r['wall']:7.1f}x {r['duration'] / (r['cpu'] / args.threads):7.1f}x "
              f"{r['wer']:6.1%} {r['peak_rss_mb']:7d} {r['segments']:5d} {r['load_average']:5.2f}",
              flush=True)  # fmt: skip
    print("RTF cpu: audio seconds per CPU second times the threads, i.e. the realtime factor "
          "if the cores were ours alone; load: the 1-minute load average at the end")  # fmt: skip
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"material": name, "words": words,
                                             "duration": duration, "rows": rows}, indent=1))


def _selected(label: str, only: list[str]) -> bool:
    """A label given whole selects only itself; a part of one selects every label with it."""
    labels = {c["label"] for c in COMPARE_CONFIGS}
    return any(label == part if part in labels else part in label for part in only)


def _wav_seconds(wav: Path) -> float:
    import wave

    with wave.open(str(wav)) as fh:
        return fh.getnframes() / fh.getframerate()


def bench_api(minutes: float, tmp: Path) -> None:
    rng = np.random.default_rng(0)
    duration = minutes * 60.0
    utterances, t = [], 1.0
    while t < duration - 6:
        length = float(rng.uniform(2.0, 6.0))
        utterances.append((t, t + length))
        t += length + float(rng.uniform(0.4, 2.5))
    wav = tmp / "api.wav"
    write_tone_speech_wav(wav, utterances, duration)
    with FakeWhisperServer([f"sentence {i}" for i in range(len(utterances))]) as server:
        transcriber = OpenAITranscriber(server.api_key, base_url=server.base_url, work_dir=tmp)
        started = time.monotonic()
        transcript = transcriber.transcribe(str(wav))
        wall = time.monotonic() - started
    chunks = transcript.metadata["chunks"]
    largest = max(c["bytes"] for c in chunks)
    longest = max(c["end"] - c["start"] for c in chunks)
    total = transcript.metadata["uploaded_bytes"]
    print(f"API path against the fake server, {minutes:g}-minute lecture "
          f"({len(utterances)} utterances), default chunking")  # fmt: skip
    print(f"  chunks            {len(chunks)}  (longest {longest:.0f} s, "
          f"{server.max_in_flight} uploads in flight at most)")  # fmt: skip
    print(
        f"  uploaded          {total / 2**20:.1f} MiB  ({total * 8 / duration / 1000:.1f} kbit/s)"
    )
    print(f"  largest chunk     {largest / 2**20:.2f} MiB  "
          f"(limit {API_UPLOAD_LIMIT_BYTES / 2**20:.0f} MiB)")  # fmt: skip
    print(f"  cut in a pause    {sum(c['cut_in_silence'] for c in chunks[:-1])}/{len(chunks) - 1}")
    print(f"  segments back     {len(transcript.segments)} of {len(utterances)} utterances")
    print(f"  wall              {wall:.1f} s (encoding, upload, fake decoding, join)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, help="lecture video/audio or 16 kHz WAV")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--batch", type=int, default=local.DEFAULT_BATCH_SIZE,
                        help="speech pieces decoded together; 0 or 1: sequential")
    parser.add_argument("--api-minutes", type=float, default=60.0)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--compare", action="store_true",
                        help="sequential vs batched configurations, one process each")
    parser.add_argument("--only", action="append",
                        help="with --compare: configurations whose label contains this")
    parser.add_argument("--dense-minutes", type=float, default=10.0)
    parser.add_argument("--wpm", type=int, default=165, help="espeak-ng speaking rate")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # a child of --compare
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()  # fmt: skip
    if args.measure:
        result = measure_local(args.file, args.reference.read_text(), json.loads(args.measure))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="bench-transcription-") as tmp:
        if args.compare:
            compare(args, Path(tmp))
            return
        if not args.skip_local:
            path = args.file or _default_file()
            bench_local(path, args.threads, args.beam, args.batch, Path(tmp))
        if not args.skip_api:
            bench_api(args.api_minutes, Path(tmp))


if __name__ == "__main__":
    main()
